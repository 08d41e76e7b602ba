"""
Sealed location reports: a device posts a batch signed with its key; each report is an HPKE
ciphertext sealed to the owner's key on the device. The server checks the batch signature,
that the device is on, that a ``locate`` report answers a locate command the owner signed
(rule ``locate_on_request_only``) and that a ``lost`` report comes while lost mode is on;
then it stores the ciphertext as it came, and nothing else of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from charter.errors import InputError, RefusedError
from charter.services.find_device.common import audit, device_row, report_ids
from charter.services.find_device.tables import commands, devices, reports
from charter.services.find_device.wire import b64d, batch_message, verify
from charter.store.driver_sql import in_paramstyle

if TYPE_CHECKING:
    from charter.gate import Gate
    from charter.services.find_device.commands import Waiters

MAX_BATCH = 1000
MAX_SEALED = 4096
KINDS = ("locate", "lost")


@dataclass(frozen=True, slots=True)
class Report:
    """A stored report: the owner opens ``sealed`` with their key."""

    id: str
    device_id: str
    kind: str
    command_id: str | None
    sealed: bytes
    received_at: int


_COLUMNS = ("subject_id", "id", "device_id", "kind", "command_id", "sealed", "received_at")


def _insert_sql(conn: Any) -> str:
    """A driver-level INSERT (executemany over tuples: a batch of reports skips SQLAlchemy's
    per-row parameter processing)."""
    return in_paramstyle(
        f"INSERT INTO find_device_reports ({', '.join(_COLUMNS)}) "  # noqa: S608 - constants
        f"VALUES ({', '.join(['?'] * len(_COLUMNS))})",
        conn.dialect.paramstyle,
    )


class Reports:
    """Accept and list sealed reports."""

    def __init__(self, gate: Gate, waiters: Waiters | None = None) -> None:
        self.gate = gate
        self.waiters = waiters

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    def ingest(
        self, subject_id: str, device_id: str, items: list[dict[str, Any]], signature: bytes
    ) -> list[str]:
        """
        Store a device's batch of sealed reports; returns their ids.

        Raises:
            InputError: a malformed batch (the field says where).
            RefusedError: ``bad_signature``, ``service_off``, ``not_requested`` (a locate
                report without its pending locate command), ``not_lost``.
        """
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise InputError(f"send 1 to {MAX_BATCH} reports per batch", field="reports")
        now = self.gate.clock()
        rows: list[tuple[Any, ...]] = []
        asked: set[str] = set()
        lost_reports = False
        ids = report_ids(now, len(items))
        for n, item in enumerate(items):
            where = f"reports[{n}]"
            if not isinstance(item, dict) or item.get("kind") not in KINDS:
                raise InputError(f"{where}.kind must be locate or lost", field=f"{where}.kind")
            command = item.get("command")
            if item["kind"] == "locate":
                if not isinstance(command, str):
                    raise InputError(f"{where}.command names the locate command", field=where)
                asked.add(command)
            else:
                command = None
                lost_reports = True
            sealed = b64d(item.get("sealed", ""), field=f"{where}.sealed", limit=MAX_SEALED)
            if not 32 < len(sealed) <= MAX_SEALED:
                raise InputError(f"{where}.sealed is not a sealed report", field=f"{where}.sealed")
            rows.append((subject_id, ids[n], device_id, item["kind"], command, sealed, now))
        # The signature is checked before the write transaction: the canonical JSON of a
        # large batch is the costliest step, and other devices' batches need not wait for it.
        with self.control.connect().execution_options(readonly=True) as conn:
            key = bytes(device_row(conn, subject_id, device_id).device_key)
        if not verify(key, signature, batch_message(device_id, items)):
            raise RefusedError(
                "the batch's signature does not verify with this device's key",
                code="bad_signature",
            )
        with self.control.begin() as conn:
            device = device_row(conn, subject_id, device_id)
            if bytes(device.device_key) != key:
                raise RefusedError(
                    "the device was activated again meanwhile; sign with its new key",
                    code="bad_signature",
                )
            if device.state != "on":
                raise RefusedError("Find Device is switched off on this device", code="service_off")
            if lost_reports and not device.lost:
                raise RefusedError("lost mode is off: no periodic reports", code="not_lost")
            if asked:
                self._check_asked(conn, subject_id, device_id, asked)
            conn.exec_driver_sql(_insert_sql(conn), rows)
            conn.execute(
                update(devices)
                .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
                .values(last_seen=now)
            )
        if asked:  # an answer to the owner's request; periodic lost-mode reports are not
            # audited one by one (the lost-mode command and its acknowledgement are)
            audit(self.gate, subject_id, "device", "find_device_report", {"reports": len(rows)})
            if self.waiters is not None:
                for command_id in asked:
                    self.waiters.notify((subject_id, command_id))
        return [r[1] for r in rows]

    def _check_asked(self, conn: Any, subject_id: str, device_id: str, asked: set[str]) -> None:
        found = conn.execute(
            select(commands.c.id).where(
                commands.c.subject_id == subject_id,
                commands.c.device_id == device_id,
                commands.c.kind == "locate",
                commands.c.id.in_(sorted(asked)),
                commands.c.acked_at.is_(None),
            )
        ).all()
        if len(found) != len(asked):
            raise RefusedError(
                "a position is accepted only as the answer to the owner's pending locate request",
                code="not_requested",
            )
        conn.execute(
            update(commands)
            .where(commands.c.subject_id == subject_id, commands.c.id.in_(sorted(asked)))
            .values(acked_at=self.gate.clock(), outcome="done", payload=None, signature=None)
        )

    def answering(self, subject_id: str, command_id: str) -> list[Report]:
        """The sealed report(s) that answered one locate command."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(reports).where(
                    reports.c.subject_id == subject_id, reports.c.command_id == command_id
                )
            ).all()
        return [
            Report(r.id, r.device_id, r.kind, r.command_id, bytes(r.sealed), r.received_at)
            for r in rows
        ]

    def list(
        self, subject_id: str, *, device_id: str | None = None, limit: int = 200
    ) -> list[Report]:
        """The owner's sealed reports, newest first."""
        query = select(reports).where(reports.c.subject_id == subject_id)
        if device_id is not None:
            query = query.where(reports.c.device_id == device_id)
        with self.control.connect() as conn:
            rows = conn.execute(query.order_by(reports.c.id.desc()).limit(limit)).all()
        return [
            Report(r.id, r.device_id, r.kind, r.command_id, bytes(r.sealed), r.received_at)
            for r in rows
        ]
