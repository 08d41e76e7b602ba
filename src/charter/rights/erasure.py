"""
Deletion (R3), withdrawal of consent (R4) and account deletion (R5).

Account deletion runs as a resumable job (``rights_jobs``, keyed by the subject's keyed
fingerprint) in steps, each committed before the next starts::

    (before)  the services' rows of the subject deleted (sign-in fails at once), and every
              registered file writer's files cleaned of the subject (e.g. the outbox lines
              sent to its addresses; :mod:`charter.store.files`)
    started   request filed, deletion commands queued for every device
    shredded  data key destroyed (crypto-shredding): nothing encrypted is readable any more
    exports   the subject's export archives deleted
    removed   records and blobs (in batches), switches, history, consents, subject row,
              directory entry and user tokens removed; WALs truncated
    done      subject ids cleared from requests, device commands and the job itself;
              only anonymized monthly counts remain

A run killed at any point is finished by running it again (:func:`delete_account` with the
same subject id, or :func:`resume_erasures`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from charter.errors import InputError, NotFoundError
from charter.gate import erasure as gx
from charter.gate.export import count_records
from charter.rights import tables as rt
from charter.rights._common import bump, new_id
from charter.rights.devices import DeviceCommands
from charter.rights.export import Exports
from charter.rights.requests import RequestKind, RequestQueue
from charter.store.engines import checkpoint
from charter.store.files import erase_subject_files
from charter.store.registry import clear_subject_references, erase_subject_rows

if TYPE_CHECKING:
    from charter.gate import Gate

Progress = Callable[[str, int], None]

CORRECTABLE_CATEGORIES = frozenset(
    {"contact_info", "user_content", "contacts", "other_data", "financial_info"}
)
"""Categories of data a person provides (and so may correct); the rest the system derives."""


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What a deletion did."""

    request_id: str
    records: int
    by_service: dict[str, int]
    device_commands: tuple[str, ...] = ()


def _close(gate: Gate, queue: RequestQueue, request_id: str, result: dict[str, Any]) -> None:
    queue.close(request_id, "job:rights", outcome="fulfilled", result=result)


def erase(
    gate: Gate,
    subject_id: str,
    *,
    service: str | None = None,
    data_type: str | None = None,
    record_id: str | None = None,
    actor: str = "subject",
) -> ErasureResult:
    """
    Delete one record, one data type of a service, one service's data, or everything the
    subject has (the account itself stays); filed and closed as a ``delete`` request.

    Raises:
        InputError: unknown service or a data type without its service.
        NotFoundError: no such subject or record.
    """
    if service is not None and service not in gate.catalog.services:
        raise InputError("unknown service", field="service")
    queue = RequestQueue(gate)
    by_service = gx.erase_records(
        gate,
        subject_id,
        actor=actor,
        service=service,
        data_type=data_type,
        record_id=record_id,
    )
    request = queue.file(subject_id, RequestKind.DELETE, service=service, actor=actor)
    total = sum(by_service.values())
    with gate.stores.control().begin() as conn:
        for sid, n in by_service.items():
            bump(conn, gate.clock(), f"records_erased:{sid}", n)
    _close(
        gate,
        queue,
        request.id,
        {
            "records": total,
            "scope": "record"
            if record_id
            else "data_type"
            if data_type
            else "service"
            if service
            else "all",
        },
    )
    return ErasureResult(request.id, total, by_service)


def correct(
    gate: Gate, subject_id: str, record_id: str, value: Any, *, actor: str = "subject"
) -> gx.Correction:
    """
    Correct a value the person provided (R2); filed and closed as a ``correct`` request.

    Raises:
        NotFoundError: no such record of this subject.
        RefusedError: the data is derived by the system, not provided by the person.
    """
    from charter.errors import RefusedError  # noqa: PLC0415

    service, data_type = gx.record_info(gate, subject_id, record_id)
    term = gate.catalog.data_types.get(data_type)
    if term is None or term.category.value not in CORRECTABLE_CATEGORIES:
        raise RefusedError(
            "only data you provided can be corrected; delete derived data instead",
            code="not_user_provided",
            field="record_id",
        )
    result = gx.correct_record(gate, subject_id, record_id, value, actor=actor)
    queue = RequestQueue(gate)
    request = queue.file(subject_id, RequestKind.CORRECT, service=service, actor=actor)
    _close(
        gate,
        queue,
        request.id,
        {
            "records": 1,
            "old_fingerprint": result.old_fingerprint,
            "new_fingerprint": result.new_fingerprint,
        },
    )
    return result


def withdraw_consent(
    gate: Gate,
    subject_id: str,
    service: str,
    *,
    actor: str = "subject",
    devices: DeviceCommands | None = None,
) -> ErasureResult:
    """
    Withdraw consent for a service (R4): its authorization switch goes off (collection and
    every use stop at once), its server data is deleted, consent records are marked
    withdrawn and a deletion command is queued for every device of the person.

    Raises:
        InputError: unknown service, or one without a consent to withdraw.
    """
    svc = gate.catalog.services.get(service)
    if svc is None:
        raise InputError("unknown service", field="service")
    if svc.controls.consent is None or not svc.controls.consent.withdrawable:
        raise InputError(
            "this service has no consent to withdraw; delete its data instead", field="service"
        )
    devices = devices or DeviceCommands(gate)
    targets = devices.devices(subject_id)
    held = count_records(gate, gate.subject(subject_id)).get(service, 0)
    gate.set_switches(
        subject_id, {f"{service}.authorization": False}, source="withdrawal", actor=actor
    )
    by_service = gx.erase_records(gate, subject_id, actor=actor, service=service)
    gate.consents.withdraw(subject_id, service)
    queue = RequestQueue(gate)
    request = queue.file(subject_id, RequestKind.WITHDRAW, service=service, actor=actor)
    with gate.stores.control().begin() as conn:
        commands = devices.queue(
            conn,
            subject_id=subject_id,
            subject_ref=gate.subject_ref(subject_id),
            devices=targets,
            kind="delete_service_data",
            service=service,
            request_id=request.id,
        )
        bump(conn, gate.clock(), f"withdrawals:{service}")
    deleted = max(held, sum(by_service.values()))
    _close(gate, queue, request.id, {"records": deleted, "device_commands": len(commands)})
    return ErasureResult(
        request.id, deleted, {service: deleted} if deleted else {}, tuple(commands)
    )


def _job(gate: Gate, subject_ref: str) -> Any:
    j = rt.jobs
    with gate.stores.control().connect() as conn:
        return conn.execute(
            select(j).where(
                j.c.kind == "erase_account", j.c.subject_ref == subject_ref, j.c.state == "running"
            )
        ).first()


def _step(gate: Gate, job_id: str, step: str, done: int = 0, **values: Any) -> None:
    j = rt.jobs
    with gate.stores.control().begin() as conn:
        conn.execute(
            update(j)
            .where(j.c.id == job_id)
            .values(step=step, done=j.c.done + done, updated_at=gate.clock(), **values)
        )


def delete_account(
    gate: Gate,
    subject_id: str,
    *,
    actor: str = "subject",
    batch: int = 1_000,
    progress: Progress | None = None,
    devices: DeviceCommands | None = None,
) -> str:
    """
    Delete an account (R5): crypto-shred first, then remove everything; resumable.
    ``devices`` (the deployment's, knowing the account's enrolled devices) gets a
    deletion command for each device, listed before the account's rows go.

    Returns:
        The id of the deletion request (closed as fulfilled when the job finishes).

    Raises:
        NotFoundError: no such subject and no unfinished deletion of it.
    """
    ref = gate.subject_ref(subject_id)
    job = _job(gate, ref)
    if job is None:
        gate.subject(subject_id)  # NotFoundError before anything is touched
        devices = devices or DeviceCommands(gate)
        targets = devices.devices(subject_id)  # before the account's device rows go
        with gate.stores.control().begin() as conn:  # services' state first: sign-in fails
            # files first, while the rows a file hook matches by (e.g. address hashes) exist
            erase_subject_files(gate.stores.settings.data_dir, conn, subject_id, gate.keyring)
            erase_subject_rows(conn, subject_id)
        job = _start(gate, subject_id, ref, actor, targets)
    return _run(gate, job.id, subject_id, job.region, actor=actor, batch=batch, progress=progress)


def _start(gate: Gate, subject_id: str, ref: str, actor: str, targets: list[str]) -> Any:
    subject = gate.subject(subject_id)
    if subject.kind.value != "account":
        raise InputError(
            "only accounts are deleted this way; reset a pseudonymous id instead",
            field="subject_id",
        )
    now = gate.clock()
    job_id = new_id("jb")
    with gate.stores.control().begin() as conn:
        request_id = RequestQueue(gate).insert(
            conn, subject_id, subject.region, RequestKind.DELETE, actor=actor
        )
        conn.execute(
            insert(rt.jobs).values(
                id=job_id,
                kind="erase_account",
                subject_id=subject_id,
                subject_ref=ref,
                region=subject.region,
                request_id=request_id,
                state="running",
                step="started",
                done=0,
                started_at=now,
                updated_at=now,
            )
        )
        DeviceCommands(gate).queue(
            conn,
            subject_id=subject_id,
            subject_ref=ref,
            devices=targets,
            kind="delete_account_data",
            request_id=request_id,
        )
    return _job(gate, ref)


def _run(
    gate: Gate,
    job_id: str,
    subject_id: str,
    region: str,
    *,
    actor: str,
    batch: int,
    progress: Progress | None,
) -> str:
    j = rt.jobs
    with gate.stores.control().connect() as conn:
        job = conn.execute(select(j).where(j.c.id == job_id)).one()
    step = job.step
    report = progress or (lambda _s, _n: None)
    if step == "started":
        if gx.subject_region(gate, subject_id) is not None:
            gx.shred_subject(gate, subject_id, actor=actor)
        _step(gate, job_id, "shredded")
        report("shredded", 1)
        step = "shredded"
    if step == "shredded":
        Exports(gate).erase_subject(subject_id)
        _step(gate, job_id, "exports")
        report("exports", 1)
        step = "exports"
    if step == "exports":
        counts = gx.remove_subject(
            gate,
            subject_id,
            region,
            actor=actor,
            batch=batch,
            progress=report,
        )
        with gate.stores.control().begin() as conn:
            for sid, n in counts.items():
                bump(conn, gate.clock(), f"records_erased:{sid}", n)
            conn.execute(
                update(j)
                .where(j.c.id == job_id)
                .values(
                    step="removed", done=j.c.done + sum(counts.values()), updated_at=gate.clock()
                )
            )
        report("removed", 1)
        step = "removed"
    if step == "removed":
        _anonymize(gate, job_id, subject_id, job.request_id)
        report("done", 1)
    return str(job.request_id)


def _anonymize(gate: Gate, job_id: str, subject_id: str, request_id: str | None) -> None:
    now = gate.clock()
    q = rt.requests
    with gate.stores.control().begin() as conn:
        if request_id is not None:
            row = conn.execute(select(q.c.state).where(q.c.id == request_id)).first()
            if row is not None and row.state != "closed":
                conn.execute(
                    update(q)
                    .where(q.c.id == request_id)
                    .values(state="closed", outcome="fulfilled", closed_at=now, updated_at=now)
                )
                conn.execute(
                    insert(rt.request_events).values(
                        request_id=request_id, at=now, state="closed", actor="job:erase"
                    )
                )
        conn.execute(
            update(q)
            .where(q.c.subject_id == subject_id)
            .values(subject_id=None, message_record=None, answer_record=None, updated_at=now)
        )
        clear_subject_references(conn, subject_id)  # Erase.CLEAR tables: device commands
        conn.execute(delete(rt.devices).where(rt.devices.c.subject_id == subject_id))
        conn.execute(delete(rt.exports).where(rt.exports.c.subject_id == subject_id))
        conn.execute(
            update(rt.jobs)
            .where(rt.jobs.c.id == job_id)
            .values(subject_id=None, state="done", step="done", updated_at=now)
        )
        bump(conn, now, "accounts_erased")
        gate.journal.record(conn, "job:erase", "erase_account", None, {"job": job_id})
    checkpoint(gate.stores.control())


def resume_erasures(gate: Gate, *, progress: Progress | None = None) -> int:
    """Finish every account deletion a crash interrupted; returns how many."""
    j = rt.jobs
    with gate.stores.control().connect() as conn:
        rows = conn.execute(
            select(j).where(j.c.kind == "erase_account", j.c.state == "running")
        ).all()
    for row in rows:
        if row.subject_id is None:
            raise NotFoundError("a running erasure job lost its subject id", field="job")
        _run(
            gate,
            row.id,
            row.subject_id,
            row.region,
            actor="job:erase",
            batch=1_000,
            progress=progress,
        )
    return len(rows)
