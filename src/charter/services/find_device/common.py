"""What the find-device parts share: ids, the audit helper, time units, the device record."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from charter.errors import NotFoundError
from charter.services.find_device.tables import devices

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from charter.gate import Gate

SERVICE = "find_device"
AUTHORIZATION = "find_device.authorization"
SECOND = 1_000_000
DAY = 86_400 * SECOND
DEFAULT_INTERVAL_S = 900
"""Lost mode reports a position every 15 minutes unless the owner sets another interval."""


def new_id(prefix: str) -> str:
    """A random 128-bit id with its prefix (``fd_``, ``fc_``); reports use :func:`report_id`."""
    return prefix + secrets.token_hex(16)


def report_id(now: int) -> str:
    """A time-ordered report id: microseconds, then randomness."""
    return f"fr_{now:016x}{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class Device:
    """A bound device as its owner sees it (no identifiers, no position)."""

    id: str
    state: str
    lost: bool
    interval_s: int
    bound_at: int
    off_since: int | None
    last_seen: int | None
    activations: int
    history_gone_at: int | None


def device_of(row: Any) -> Device:
    """A :class:`Device` from a ``find_device_devices`` row."""
    return Device(
        row.id,
        row.state,
        bool(row.lost),
        int(row.interval_s),
        int(row.bound_at),
        row.off_since,
        row.last_seen,
        int(row.activations),
        row.history_gone_at,
    )


def device_row(conn: Connection, subject_id: str, device_id: str) -> Any:
    """
    A device's row.

    Raises:
        NotFoundError: no such device of this person.
    """
    row = conn.execute(
        select(devices).where(devices.c.subject_id == subject_id, devices.c.id == device_id)
    ).first()
    if row is None:
        raise NotFoundError("no such device of this account", field="device_id")
    return row


def audit(gate: Gate, subject_id: str, actor: str, action: str, detail: dict[str, object]) -> None:
    """One entry in the person's audit chain (and so in their activity): codes, never values."""
    with gate.stores.region(gate.subject(subject_id).region).begin() as conn:
        gate.journal.record(conn, actor, action, subject_id, {"service": SERVICE, **detail})
