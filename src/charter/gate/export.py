"""
Gate-side export primitives: every record of a subject, decrypted, in constant memory.

Records are read with keyset pagination (``service``, then ``id`` greater than the last one
seen) in short read transactions of ``batch`` rows, so memory does not grow with a
subject's data and no long transaction holds SQLite's WAL or PostgreSQL's vacuum back.
Blobs are decrypted one at a time.

Only the rights engine calls these; every call is audited in the subject's region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from charter.crypto import FieldCipher
from charter.errors import NotFoundError, RefusedError
from charter.gate.blobs import is_inline, stored_value
from charter.gate.blobs import read_blob as open_blob
from charter.gate.facade import Gate
from charter.gate.model import Subject, SwitchChange, purposes_of
from charter.gate.protect import reveal
from charter.policy import SubjectKind
from charter.store import schema as t
from charter.taxonomy import AtRest

DEFAULT_BATCH = 500
"""Rows per read transaction."""

ExportPart = Callable[[Gate, Subject], Any]
"""What a service adds to a person's export beside their records (JSON-compatible data)."""
_PARTS: dict[str, ExportPart] = {}


def register_export_part(name: str, producer: ExportPart) -> None:
    """Add ``parts/<name>.json`` to every export (a service's non-record state of a person,
    e.g. the privacy budget spent); registered at import, like tables."""
    if _PARTS.get(name, producer) is not producer:
        raise ValueError(f"export part {name!r} is registered twice")
    _PARTS[name] = producer


def export_parts() -> Mapping[str, ExportPart]:
    """Every registered export part, by name."""
    return dict(_PARTS)


@dataclass(frozen=True, slots=True)
class ExportedRecord:
    """One record as it leaves the gate for its own subject: every field, value revealed."""

    id: str
    subject_id: str
    service: str
    data_type: str
    qualifier: str
    purposes: tuple[str, ...]
    protection: str
    value: Any
    blob: str | None
    source: str | None
    collected_at: int
    expires_at: int | None


def subjects_for_export(
    gate: Gate, subject_id: str, pseudonyms: Sequence[str] = ()
) -> list[Subject]:
    """
    The subjects an export covers: the requester and the pseudonymous ids its device presents.

    A device proves it holds a pseudonymous id (app instance or advertising id) by
    presenting it; an account id is never accepted as a pseudonym, so an export can include
    no one else's account.

    Raises:
        NotFoundError: the requester or a presented id does not exist.
        RefusedError: a presented id is an account (code ``not_pseudonymous``).
    """
    main = gate.subject(subject_id)
    out = [main]
    for pid in dict.fromkeys(pseudonyms):
        if pid == subject_id:
            continue
        other = gate.subject(pid)
        if other.kind is SubjectKind.ACCOUNT:
            raise RefusedError(
                "only pseudonymous ids (app instance, advertising id) may be added to an export",
                code="not_pseudonymous",
                field="pseudonyms",
            )
        out.append(other)
    return out


def count_records(gate: Gate, subject: Subject) -> dict[str, int]:
    """How many records the gate holds for a subject, by service."""
    r = t.records
    query = (
        select(r.c.service, func.count())
        .where(r.c.subject_id == subject.id)
        .group_by(r.c.service)
        .order_by(r.c.service)
    )
    with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
        return {row[0]: int(row[1]) for row in conn.execute(query)}


def iter_records(
    gate: Gate, subject: Subject, *, service: str | None = None, batch: int = DEFAULT_BATCH
) -> Iterator[ExportedRecord]:
    """
    Every record of ``subject`` (of one service, or all, ordered by service then id), with
    its value decrypted. Expired records not yet purged are included: the gate still holds
    them. Values whose data key was destroyed come back as ``{"unavailable": ...}``.
    """
    r = t.records
    services = [service] if service is not None else list(count_records(gate, subject))
    engine = gate.stores.region(subject.region)
    for sid in services:
        last = ""
        while True:
            with engine.connect().execution_options(readonly=True) as conn:
                rows = conn.execute(
                    select(r)
                    .where(r.c.subject_id == subject.id, r.c.service == sid, r.c.id > last)
                    .order_by(r.c.id)
                    .limit(batch)
                ).all()
                cipher = _cipher_for(gate, conn, subject, rows)
            if not rows:
                break
            for x in rows:
                yield ExportedRecord(
                    id=x.id,
                    subject_id=x.subject_id,
                    service=x.service,
                    data_type=x.data_type,
                    qualifier=x.qualifier,
                    purposes=purposes_of(x.purposes),
                    protection=x.protection,
                    value=_reveal(x, cipher),
                    blob=x.blob,
                    source=x.source,
                    collected_at=x.collected_at,
                    expires_at=x.expires_at,
                )
            last = rows[-1].id
            if len(rows) < batch:
                break


def _cipher_for(
    gate: Gate, conn: Connection, subject: Subject, rows: Sequence[Any]
) -> FieldCipher | None:
    needs = any(x.protection == AtRest.FIELD_ENCRYPTION.value or x.blob is not None for x in rows)
    if not needs:
        return None
    return gate.keys.cipher(conn, subject.id, subject.region)


def _reveal(row: Any, cipher: FieldCipher | None) -> Any:
    value = stored_value(row)
    if value is None:
        return None
    return reveal(
        AtRest(row.protection),
        value,
        cipher=cipher,
        subject_id=row.subject_id,
        service=row.service,
        data_type=row.data_type,
        record_id=row.id,
    )


def read_blob(gate: Gate, subject: Subject, record: ExportedRecord) -> bytes:
    """
    The decrypted blob of an exported record.

    Raises:
        NotFoundError: the record has no blob, its file is gone or its key was destroyed.
    """
    if record.blob is None:
        raise NotFoundError("the record has no blob", field="record_id")
    r = t.records
    with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
        cipher = gate.keys.cipher(conn, subject.id, subject.region)
        value = (
            conn.execute(
                select(r.c.value).where(r.c.subject_id == subject.id, r.c.id == record.id)
            ).scalar()
            if is_inline(record.blob)
            else None
        )
    if cipher is None:
        raise NotFoundError("the blob is no longer available", field="record_id")
    return open_blob(
        gate.stores.blob_dir(subject.region), cipher, subject.id, record.id, record.blob, value
    )


def switch_history(gate: Gate, subject: Subject) -> list[SwitchChange]:
    """Every switch change of the subject, oldest first (consent given and withdrawn)."""
    return gate.switch_history(subject.id)


def audit_export(gate: Gate, subject: Subject, *, actor: str, detail: dict[str, object]) -> None:
    """Record in the subject's region that its data left the gate in an export."""
    with gate.stores.region(subject.region).begin() as conn:
        gate.journal.record(conn, actor, "export", subject.id, detail)
