"""
Gate-side erasure primitives: one record, one data type, one service, everything; the
crypto-shredding and physical removal of a whole subject; correction of a value.

Order of work, so that a kill -9 at any instant leaves nothing half-done that a rerun
cannot finish:

1. **Shred** (:func:`shred_subject`): one transaction deletes the subject's data key and
   marks it ``erasing``; from that commit on, every encrypted value and blob of the subject
   is unreadable, whatever else still lies on disk. The cached key is evicted.
2. **Remove** (:func:`remove_subject`): records are deleted in batches (blob files are
   unlinked before their rows go, so a rerun never finds a blob without a row), then
   switches, history and consent records, then the subject row and its directory entry.
3. **Checkpoint**: SQLite's WAL is truncated so deleted pages do not survive there
   (``secure_delete=ON`` already zeroes them in the database file).

Every step is idempotent and finds its remaining work in the data itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, tuple_, update

from charter.crypto import fingerprint
from charter.errors import InputError, NotFoundError
from charter.gate.blobs import remove_blobs, stored_value
from charter.gate.facade import Gate
from charter.gate.model import ACTIVE, Subject
from charter.gate.protect import encode_value, protect, reveal
from charter.store import schema as t
from charter.store.engines import checkpoint, compact
from charter.taxonomy import AtRest

Progress = Callable[[str, int], None]
"""Called with (step, items done in that batch) after each committed batch."""

ERASING = "erasing"
"""Status of a subject whose data key is destroyed and whose rows are being removed."""

DEFAULT_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class Correction:
    """What a correction changed: fingerprints of the old and new value, never the values."""

    record_id: str
    old_fingerprint: str
    new_fingerprint: str


def _ref(gate: Gate, value: str) -> str:
    return fingerprint(gate.keyring.hmac_key, value.encode())


def _delete_batch(
    gate: Gate, conn: Connection, region: str, where: list[Any], batch: int
) -> tuple[int, dict[str, int]]:
    r = t.records
    rows = conn.execute(
        select(r.c.subject_id, r.c.id, r.c.blob, r.c.service).where(*where).limit(batch)
    ).all()
    if not rows:
        return 0, {}
    blob_dir = gate.stores.blob_dir(region)
    by_service: dict[str, int] = {}
    remove_blobs(blob_dir, [row.blob for row in rows])
    for row in rows:
        by_service[row.service] = by_service.get(row.service, 0) + 1
    key = tuple_(r.c.subject_id, r.c.id)  # the records' clustered key
    conn.execute(delete(r).where(key.in_([(row.subject_id, row.id) for row in rows])))
    return len(rows), by_service


def erase_records(
    gate: Gate,
    subject_id: str,
    *,
    actor: str,
    service: str | None = None,
    data_type: str | None = None,
    record_id: str | None = None,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> dict[str, int]:
    """
    Delete a subject's records (one record, one data type of a service, one service, or
    everything) with their blobs, in committed batches; then truncate the WAL.

    Returns:
        Records deleted, by service.

    Raises:
        InputError: ``data_type`` without ``service``.
        NotFoundError: ``record_id`` names no record of this subject.
    """
    if data_type is not None and service is None:
        raise InputError(
            "a data type is erased within a service; name the service too", field="service"
        )
    subject = gate.subject(subject_id)
    r = t.records
    where: list[Any] = [r.c.subject_id == subject_id]
    if service is not None:
        where.append(r.c.service == service)
    if data_type is not None:
        where.append(r.c.data_type == data_type)
    if record_id is not None:
        where.append(r.c.id == record_id)
    engine = gate.stores.region(subject.region)
    total: dict[str, int] = {}
    while True:
        with engine.begin() as conn:
            n, by_service = _delete_batch(gate, conn, subject.region, where, batch)
            if n:
                detail: dict[str, object] = {
                    "records": n,
                    "service": service,
                    "data_type": data_type,
                }
                if record_id is not None:
                    detail["record_ref"] = _ref(gate, record_id)
                gate.journal.record(conn, actor, "erase", subject_id, detail)
        for k, v in by_service.items():
            total[k] = total.get(k, 0) + v
        if progress is not None and n:
            progress("records", n)
        if n < batch:
            break
    if record_id is not None and not total:
        raise NotFoundError("no such record", field="record_id")
    checkpoint(engine)
    return total


def shred_subject(gate: Gate, subject_id: str, *, actor: str) -> bool:
    """
    Crypto-shred a subject: delete its data key and mark it ``erasing``, in one commit.

    Returns:
        True when a data key was destroyed now (False: none, or already shredded).
    """
    subject = gate.subject(subject_id)
    now = gate.clock()
    with gate.stores.region(subject.region).begin() as conn:
        deleted = gate.keys.destroy(conn, subject_id)
        conn.execute(
            update(t.subjects)
            .where(t.subjects.c.id == subject_id)
            .values(status=ERASING, updated_at=now)
        )
        gate.journal.record(conn, actor, "shred", subject_id, {"data_keys": deleted})
    gate.subjects.forget(subject_id)
    return bool(deleted)


def subject_region(gate: Gate, subject_id: str) -> str | None:
    """The region of a subject still in the directory, or None when it is gone."""
    with gate.stores.control().connect().execution_options(readonly=True) as conn:
        return conn.execute(
            select(t.subject_directory.c.region).where(
                t.subject_directory.c.subject_id == subject_id
            )
        ).scalar_one_or_none()


def remove_subject(
    gate: Gate,
    subject_id: str,
    region: str,
    *,
    actor: str,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> dict[str, int]:
    """
    Physically remove a shredded subject: records and blobs in batches, then switches,
    switch history, consent records, the subject row and its directory entry; then truncate the WAL.

    Idempotent: a rerun after a kill finishes the work and changes nothing more.

    Returns:
        Records deleted, by service.
    """
    engine = gate.stores.region(region)
    r = t.records
    total: dict[str, int] = {}
    while True:
        with engine.begin() as conn:
            n, by_service = _delete_batch(gate, conn, region, [r.c.subject_id == subject_id], batch)
        for k, v in by_service.items():
            total[k] = total.get(k, 0) + v
        if progress is not None and n:
            progress("records", n)
        if n < batch:
            break
    with engine.begin() as conn:
        for table in (t.switch_history, t.switches, t.consents, t.data_keys):
            conn.execute(delete(table).where(table.c.subject_id == subject_id))
        gone = conn.execute(delete(t.subjects).where(t.subjects.c.id == subject_id)).rowcount or 0
        if gone:
            gate.journal.record(
                conn, actor, "erase_subject", subject_id, {"records": sum(total.values())}
            )
    if progress is not None:
        progress("subject", 1)
    with gate.stores.control().begin() as conn:
        conn.execute(
            delete(t.subject_directory).where(t.subject_directory.c.subject_id == subject_id)
        )
    gate.subjects.forget(subject_id)
    compact(engine)
    checkpoint(gate.stores.control())
    return total


def correct_record(
    gate: Gate, subject_id: str, record_id: str, value: Any, *, actor: str
) -> Correction:
    """
    Replace the value of one record, protected as its inventory row declares; the audit
    entry carries keyed fingerprints of the old and new value, never the values. The WAL
    is truncated afterwards so the old value does not survive there.

    Raises:
        NotFoundError: no such record of this subject.
        InputError: the record holds a password hash or only a blob, or the subject is not active.
    """
    subject: Subject = gate.subject(subject_id)
    if subject.status != ACTIVE:
        raise InputError("the subject is no longer active", field="subject_id")
    data = encode_value(value)
    r = t.records
    engine = gate.stores.region(subject.region)
    with engine.begin() as conn:
        row = conn.execute(
            select(r).where(r.c.id == record_id, r.c.subject_id == subject_id)
        ).first()
        if row is None:
            raise NotFoundError("no such record", field="record_id")
        protection = AtRest(row.protection)
        if protection is AtRest.PASSWORD_HASH or stored_value(row) is None:
            raise InputError(
                "this record cannot be corrected here (password or file)", field="record_id"
            )
        cipher = gate.keys.cipher(conn, subject_id, subject.region)
        old = reveal(
            protection,
            row.value,
            cipher=cipher,
            subject_id=subject_id,
            service=row.service,
            data_type=row.data_type,
            record_id=record_id,
        )
        old_bytes = encode_value(old) if protection is not AtRest.KEYED_HASH else row.value
        stored = protect(
            protection,
            data,
            keyring=gate.keyring,
            passwords=gate.passwords,
            cipher=cipher,
            subject_id=subject_id,
            service=row.service,
            data_type=row.data_type,
            record_id=record_id,
        )
        conn.execute(
            update(r).where(r.c.subject_id == subject_id, r.c.id == record_id).values(value=stored)
        )
        if protection is AtRest.FIELD_ENCRYPTION:
            conn.execute(
                update(t.data_keys)
                .where(t.data_keys.c.subject_id == subject_id)
                .values(encryptions=t.data_keys.c.encryptions + 1)
            )
        key = gate.keyring.hmac_key
        new_bytes = data if protection is not AtRest.KEYED_HASH else stored
        result = Correction(record_id, fingerprint(key, old_bytes), fingerprint(key, new_bytes))
        gate.journal.record(
            conn,
            actor,
            "correct",
            subject_id,
            {
                "record_ref": _ref(gate, record_id),
                "service": row.service,
                "data_type": row.data_type,
                "old_fingerprint": result.old_fingerprint,
                "new_fingerprint": result.new_fingerprint,
            },
        )
    checkpoint(engine)
    return result


def record_info(gate: Gate, subject_id: str, record_id: str) -> tuple[str, str]:
    """
    The (service, data type) of one record of a subject.

    Raises:
        NotFoundError: no such record of this subject.
    """
    subject = gate.subject(subject_id)
    r = t.records
    with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
        row = conn.execute(
            select(r.c.service, r.c.data_type).where(
                r.c.id == record_id, r.c.subject_id == subject_id
            )
        ).first()
    if row is None:
        raise NotFoundError("no such record", field="record_id")
    return row.service, row.data_type


def record_sources(gate: Gate, subject_id: str, *, service: str | None = None) -> list[str]:
    """Distinct non-empty ``source`` values (device ids) of a subject's records."""
    subject = gate.subject(subject_id)
    r = t.records
    query = (
        select(r.c.source).where(r.c.subject_id == subject_id, r.c.source.is_not(None)).distinct()
    )
    if service is not None:
        query = query.where(r.c.service == service)
    with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
        return sorted(s for s in conn.execute(query).scalars() if s)


def discard_subject(gate: Gate, subject_id: str, *, actor: str = "job:discard") -> bool:
    """
    Erase a subject that never became anything (a registration that did not finish):
    crypto-shred, then remove every row. Returns False when there was no such subject.
    """
    region = subject_region(gate, subject_id)
    if region is None:
        return False
    shred_subject(gate, subject_id, actor=actor)
    remove_subject(gate, subject_id, region, actor=actor)
    return True
