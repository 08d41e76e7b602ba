"""
Membership purchase history: every plan change is recorded as a purchase, a gate record of
the catalog's ``purchase_history`` type (encrypted, in the person's region, exported with
their data and erased with their account). The plan itself stays in ``cloud_accounts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from charter.errors import RefusedError
from charter.gate import Event
from charter.services.cloud.sync import ACTOR, PURPOSE, SERVICE

if TYPE_CHECKING:
    from charter.services.cloud.sync import CloudSync

DATA_TYPE = "purchase_history"


@dataclass(frozen=True, slots=True)
class Purchase:
    """One membership purchase (or its end: a change to ``free``)."""

    plan: str
    previous: str
    at: int
    source: str
    """Who made the change: ``person`` or ``staff``."""


def record_purchase(
    sync: CloudSync, subject_id: str, *, plan: str, previous: str, source: str
) -> None:
    """
    Keep a plan change in the person's purchase history, through the gate.

    Raises:
        RefusedError: the gate refused it (e.g. the person has not authorized Cloud).
    """
    value = {"plan": plan, "previous": previous, "at": sync.clock(), "source": source}
    result = sync.gate.collect(
        [Event(subject_id, SERVICE, DATA_TYPE, PURPOSE, value=value)], actor=ACTOR
    )
    outcome = result.items[0]
    if not outcome.accepted:
        raise RefusedError(outcome.message, code=outcome.reason)


def purchases(sync: CloudSync, subject_id: str) -> list[Purchase]:
    """The person's membership purchases, newest first."""
    try:
        found = sync.gate.read(
            subject_id, service=SERVICE, purpose=PURPOSE, data_type=DATA_TYPE, actor=ACTOR
        )
    except RefusedError:
        return []  # Cloud not authorized (any more): nothing of it is read
    out = [
        Purchase(
            str(r.value["plan"]),
            str(r.value["previous"]),
            int(r.value["at"]),
            str(r.value["source"]),
        )
        for r in found
        if isinstance(r.value, dict) and {"plan", "previous", "at", "source"} <= r.value.keys()
    ]
    return sorted(out, key=lambda p: p.at, reverse=True)
