"""
:func:`read_many`: one service's records of many subjects for one purpose, under the same
rules as :meth:`Gate.read` (each subject's switches, market and the catalog's gate rules;
expired records never), in one transaction per region with one audit entry per subject.

For listings that show several people's data at once (a page of reviews by many authors):
the subjects' status and switches are read together (as collection does), each subject's
allowed data types decided on its own, and the records of every subject allowed the same
types fetched by one query (``subject_id IN (...)``, optionally narrowed to the record ids
the listing shows), so a page costs one query, not one per author; the commit and the audit
append are shared. A subject that is refused, inactive or unknown is left out of the answer
(its refusal is audited like any other).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from charter.errors import InputError, NotFoundError
from charter.gate.facade import Gate
from charter.gate.journal import AuditEntry
from charter.gate.model import ACTIVE, RecordOut, Subject
from charter.gate.read import record_out
from charter.gate.switches import Switches
from charter.policy import PURPOSE_BITS, Reason, decide_use
from charter.store import schema as t
from charter.taxonomy import AtRest, Purpose


def read_many(
    gate: Gate,
    subject_ids: Iterable[str],
    *,
    service: str,
    purpose: Purpose,
    data_type: str | None = None,
    record_ids: Iterable[str] | None = None,
    actor: str,
) -> dict[str, list[RecordOut]]:
    """
    Per subject allowed to be read now, its records of ``service`` usable for ``purpose``
    (only those of ``record_ids`` when given: the records a listing shows).

    Raises:
        InputError: unknown service.
    """
    compiled = gate.compiled
    if service not in compiled.types_by_service:
        raise InputError("unknown service; the catalog does not declare it", field="service")
    regions = by_region(gate, subject_ids)
    out: dict[str, list[RecordOut]] = {}
    for region, subjects in regions.items():
        with gate.stores.region(region).begin() as conn:
            found, entries = read_in(
                gate, conn, subjects, service=service, purpose=purpose, data_type=data_type,
                record_ids=record_ids, actor=actor,
            )  # fmt: skip
            out.update(found)
            if entries:
                gate.journal.record_many(conn, entries)
    return out


def by_region(gate: Gate, subject_ids: Iterable[str]) -> dict[str, list[Subject]]:
    """The known subjects among ``subject_ids``, grouped by the region that holds them."""
    out: dict[str, list[Subject]] = {}
    for sid in dict.fromkeys(subject_ids):
        try:
            subject = gate.subjects.locate(sid)  # cached: kind, market and region never change
        except NotFoundError:
            continue
        out.setdefault(subject.region, []).append(subject)
    return out


def read_in(
    gate: Gate,
    conn: Connection,
    subjects: list[Subject],
    *,
    service: str,
    purpose: Purpose,
    data_type: str | None,
    record_ids: Iterable[str] | None = None,
    actor: str,
) -> tuple[dict[str, list[RecordOut]], list[AuditEntry]]:
    """
    The gate's purpose-on-read decision and read for subjects of one region, inside
    ``conn``'s transaction: each allowed subject's records, and the audit entries (one
    ``use`` or ``refuse`` per subject) that the caller must append before handing anything
    out (in the same transaction, or durably by :class:`~charter.gate.grouped.GroupAudit`).
    """
    compiled = gate.compiled
    now = gate.clock()
    rows_of_service = compiled.rows_for(service, data_type)
    r = t.records
    wanted = sorted(set(record_ids)) if record_ids is not None else None
    out: dict[str, list[RecordOut]] = {}
    entries: list[AuditEntry] = []
    groups: dict[tuple[str, ...], list[str]] = {}
    refs: dict[str, str] = {}
    ids = [s.id for s in subjects]
    status = dict(
        conn.execute(
            select(t.subjects.c.id, t.subjects.c.status).where(t.subjects.c.id.in_(ids))
        ).all()
    )
    own = Switches.load(conn, ids)
    for subject in subjects:
        if status.get(subject.id) != ACTIVE:
            continue
        switches = own.get(subject.id, {})
        allowed: list[str] = []
        refusal = Reason.PURPOSE_NOT_DECLARED.value
        for row in rows_of_service:
            decision = decide_use(
                compiled, row=row, purpose=purpose, switches=switches, market=subject.market
            )
            if decision.allowed:
                allowed.append(row.data_type)
            elif decision.reason is not Reason.PURPOSE_NOT_DECLARED:
                refusal = decision.reason.value
        ref = gate.journal.subject_ref(subject.id)
        if not allowed:
            refused: dict[str, object] = {
                "use": service,
                "purpose": purpose.value,
                "reason": refusal,
            }
            entries.append(AuditEntry(now, actor, "refuse", ref, refused))
            continue
        groups.setdefault(tuple(allowed), []).append(subject.id)
        refs[subject.id] = ref
    found: dict[str, list[Any]] = {}
    for allowed_types, group in groups.items():
        for start in range(0, len(group), 500):
            query = select(r).where(
                r.c.subject_id.in_(group[start : start + 500]),
                r.c.service == service,
                r.c.data_type.in_(allowed_types),
                r.c.purposes.op("&")(PURPOSE_BITS[purpose]) != 0,
                (r.c.expires_at.is_(None)) | (r.c.expires_at > now),
            )
            if wanted is not None:
                query = query.where(r.c.id.in_(wanted))
            for x in conn.execute(query.order_by(r.c.subject_id, r.c.collected_at, r.c.id)):
                found.setdefault(x.subject_id, []).append(x)
    encrypted = [
        sid
        for sid, rows in found.items()
        if any(x.protection == AtRest.FIELD_ENCRYPTION.value for x in rows)
    ]
    region = subjects[0].region if subjects else ""
    ciphers = gate.keys.ciphers(conn, encrypted, region) if encrypted else {}
    for sid, ref in refs.items():
        rows = found.get(sid, [])
        out[sid] = [record_out(x, ciphers.get(sid)) for x in rows]
        used: dict[str, object] = {
            "service": service,
            "purpose": purpose.value,
            "records": len(rows),
        }
        entries.append(AuditEntry(now, actor, "use", ref, used))
    return out, entries
