"""
Group commit of read audits, for hot read paths (an ad decision per request).

:meth:`Gate.read` takes a write transaction per read so that its ``use`` entry commits with
it: one durable commit (an ``fsync`` on SQLite) per request. :func:`read_grouped` keeps the
same decision (:func:`~charter.gate.many.read_in`: the subject's switches, market and the
catalog's gate rules; expired records never) and the same audit entry, but reads in a
read-only snapshot (no writer lock) and hands the entry to :class:`GroupAudit`, which appends
the entries of all requests waiting at that moment in **one** durable transaction. The call
returns only once its entry is durable, so nothing read is handed out unaudited; if the
append fails, the read raises and its records are dropped. Concurrent requests then share
one commit instead of queueing for one each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from charter.errors import InputError
from charter.gate.facade import Gate
from charter.gate.journal import AuditEntry
from charter.gate.many import by_region, read_in
from charter.gate.model import RecordOut
from charter.taxonomy import Purpose


@dataclass(slots=True)
class _Ticket:
    entries: list[AuditEntry]
    done: bool = False
    error: BaseException | None = None


@dataclass(slots=True)
class _Queue:
    pending: list[_Ticket] = field(default_factory=list)
    flushing: threading.Lock = field(default_factory=threading.Lock)


class GroupAudit:
    """Appends audit entries durably, many requests' entries in one transaction per
    database (leader and followers: the first waiter writes everyone's pending entries)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self._mu = threading.Lock()
        self._queues: dict[str, _Queue] = {}
        self.commits = 0
        """Transactions written so far (for benches and tests)."""

    def append(self, region: str, entries: list[AuditEntry]) -> None:
        """
        Append ``entries`` to the region's audit log; returns once they are committed.

        Raises:
            Exception: the append failed (whatever the database raised).
        """
        if not entries:
            return
        ticket = _Ticket(entries)
        with self._mu:
            queue = self._queues.setdefault(region, _Queue())
            queue.pending.append(ticket)
        with queue.flushing:  # one writer at a time; followers wait here for the leader
            if not ticket.done:
                with self._mu:
                    batch, queue.pending = queue.pending, []
                self._write(region, batch)
        if ticket.error is not None:
            raise ticket.error

    def _write(self, region: str, batch: list[_Ticket]) -> None:
        try:
            with self.gate.stores.region(region).begin() as conn:
                self.gate.journal.record_many(conn, [e for t in batch for e in t.entries])
            self.commits += 1
        except BaseException as exc:
            for t in batch:
                t.error = exc
            raise
        finally:
            for t in batch:
                t.done = True


@dataclass(frozen=True, slots=True)
class GroupedRead:
    """What :func:`read_grouped` found: records per allowed subject, and the reason code of
    each refused one (inactive and unknown subjects are in neither)."""

    records: dict[str, list[RecordOut]]
    refused: dict[str, str]


def read_grouped(
    gate: Gate,
    audit: GroupAudit,
    subject_ids: Iterable[str],
    *,
    service: str,
    purpose: Purpose,
    data_type: str | None = None,
    actor: str,
) -> GroupedRead:
    """
    :func:`~charter.gate.many.read_many`'s answer (per subject allowed now, its records of
    ``service`` usable for ``purpose``; refused, inactive and unknown subjects left out), read
    in a snapshot, its audit entries group-committed by ``audit`` before it returns.

    Raises:
        InputError: unknown service.
    """
    if service not in gate.compiled.types_by_service:
        raise InputError("unknown service; the catalog does not declare it", field="service")
    out: dict[str, list[RecordOut]] = {}
    refused: dict[str, str] = {}
    for region, subjects in by_region(gate, subject_ids).items():
        engine = gate.stores.region(region)
        with engine.connect().execution_options(readonly=True) as conn, conn.begin():
            found, entries = read_in(
                gate, conn, subjects, service=service, purpose=purpose, data_type=data_type,
                actor=actor,
            )  # fmt: skip
        audit.append(region, entries)  # durable before anything is handed out
        out.update(found)
        refs = {gate.journal.subject_ref(s.id): s.id for s in subjects}
        for e in entries:
            if e.action == "refuse" and e.subject_ref in refs:
                refused[refs[e.subject_ref]] = str(e.detail.get("reason", ""))
    return GroupedRead(out, refused)
