"""
Staff act on a correction request: they pick the record by its keyed fingerprint (never
seeing its id or value), give the corrected value, and the gate applies it exactly as a
person's own correction (:func:`charter.gate.erasure.correct_record`: protected as declared,
audited with fingerprints of the old and new value); the request is then closed as
fulfilled with those fingerprints as its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import erasure as gx
from charter.gate import items as gi
from charter.rights import tables as rt
from charter.rights.items import correctable, record_reference
from charter.rights.requests import RequestKind, RequestQueue, RequestState

if TYPE_CHECKING:
    from charter.gate import Gate


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record a correction request may be about, named by its fingerprint."""

    reference: str
    service: str
    data_type: str
    label: str
    collected_at: int


@dataclass(frozen=True, slots=True)
class AppliedCorrection:
    """What staff applied: the record's fingerprint and those of the old and new value."""

    request_id: str
    record_ref: str
    old_fingerprint: str
    new_fingerprint: str


def _requester(gate: Gate, request_id: str) -> tuple[str, str | None, str]:
    q = rt.requests
    with gate.stores.control().connect().execution_options(readonly=True) as conn:
        row = conn.execute(
            select(q.c.subject_id, q.c.service, q.c.kind, q.c.state).where(q.c.id == request_id)
        ).first()
    if row is None:
        raise NotFoundError("no such request", field="request_id")
    if row.kind != RequestKind.CORRECT.value:
        raise InputError("only a correction request can have a correction applied", field="kind")
    if row.state == RequestState.CLOSED.value:
        raise InputError("the request is closed already", code="invalid_transition", field="state")
    if row.subject_id is None:
        raise RefusedError(
            "the requester's account was deleted; close the request instead",
            code="subject_erased",
        )
    return row.subject_id, row.service, row.kind


def candidates(gate: Gate, request_id: str) -> list[Candidate]:
    """The requester's correctable records (of the request's service, when it names one)."""
    subject_id, service, _ = _requester(gate, request_id)
    subject = gate.subject(subject_id)
    return [
        Candidate(
            record_reference(gate, m.id),
            m.service,
            m.data_type,
            gate.catalog.type_label(m.data_type),
            m.collected_at,
        )
        for m in gi.item_metadata(gate, subject, service=service)
        if correctable(gate, m.data_type, m.protection, m.has_value)
    ]


def apply_correction(
    gate: Gate, request_id: str, reference: str, value: Any, *, staff: str
) -> AppliedCorrection:
    """
    Apply the correction a person asked for, to the record with fingerprint ``reference``,
    through the gate; the request is closed as fulfilled with the fingerprints as result.

    Raises:
        NotFoundError: no such request, or no correctable record of the requester with
            that fingerprint.
        InputError: not an open correction request, or the value is not valid JSON data.
        RefusedError: the requester's account is gone.
    """
    if not staff or len(staff) > 60:
        raise InputError("staff name must be 1-60 characters", field="staff")
    subject_id, service, _ = _requester(gate, request_id)
    subject = gate.subject(subject_id)
    record_id = next(
        (
            m.id
            for m in gi.item_metadata(gate, subject, service=service)
            if correctable(gate, m.data_type, m.protection, m.has_value)
            and record_reference(gate, m.id) == reference
        ),
        None,
    )
    if record_id is None:
        raise NotFoundError(
            "no record of the requester that can be corrected has this fingerprint",
            field="record",
        )
    actor = f"staff:{staff}"
    result = gx.correct_record(gate, subject_id, record_id, value, actor=actor)
    RequestQueue(gate).close(
        request_id,
        actor,
        outcome="fulfilled",
        result={
            "records": 1,
            "record_ref": reference,
            "old_fingerprint": result.old_fingerprint,
            "new_fingerprint": result.new_fingerprint,
        },
    )
    return AppliedCorrection(request_id, reference, result.old_fingerprint, result.new_fingerprint)
