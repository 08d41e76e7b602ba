"""
:func:`read_many`: one service's records of many subjects for one purpose, under the same
rules as :meth:`Gate.read` (each subject's switches, market and the catalog's gate rules;
expired records never), in one transaction per region with one audit entry per subject.

For listings that show several people's data at once (a page of reviews by many authors):
each subject's records are read by its own query on its own subject id, so a distributed
deployment routes those to one shard; the subjects' status and switches are read together
(as collection does), and the commit and the audit append are shared.
A subject that is refused, inactive or unknown is left out of the answer (its refusal is
audited like any other).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from charter.errors import InputError, NotFoundError
from charter.gate.blobs import stored_value
from charter.gate.facade import Gate
from charter.gate.journal import AuditEntry
from charter.gate.model import ACTIVE, RecordOut, Subject, purposes_of
from charter.gate.protect import reveal
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
    actor: str,
) -> dict[str, list[RecordOut]]:
    """
    Per subject allowed to be read now, its records of ``service`` usable for ``purpose``.

    Raises:
        InputError: unknown service.
    """
    compiled = gate.compiled
    if service not in compiled.types_by_service:
        raise InputError("unknown service; the catalog does not declare it", field="service")
    by_region: dict[str, list[Subject]] = {}
    for sid in dict.fromkeys(subject_ids):
        try:
            subject = gate.subjects.locate(sid)  # cached: kind, market and region never change
        except NotFoundError:
            continue
        by_region.setdefault(subject.region, []).append(subject)
    now = gate.clock()
    rows_of_service = compiled.rows_for(service, data_type)
    r = t.records
    out: dict[str, list[RecordOut]] = {}
    for region, subjects in by_region.items():
        entries: list[AuditEntry] = []
        with gate.stores.region(region).begin() as conn:
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
                found = conn.execute(
                    select(r)
                    .where(
                        r.c.subject_id == subject.id,
                        r.c.service == service,
                        r.c.data_type.in_(allowed),
                        r.c.purposes.op("&")(PURPOSE_BITS[purpose]) != 0,
                        (r.c.expires_at.is_(None)) | (r.c.expires_at > now),
                    )
                    .order_by(r.c.collected_at, r.c.id)
                ).all()
                cipher = (
                    gate.keys.cipher(conn, subject.id, region)
                    if any(x.protection == AtRest.FIELD_ENCRYPTION.value for x in found)
                    else None
                )
                out[subject.id] = [
                    RecordOut(
                        id=x.id,
                        service=x.service,
                        data_type=x.data_type,
                        qualifier=x.qualifier,
                        purposes=purposes_of(x.purposes),
                        value=reveal(
                            AtRest(x.protection),
                            stored_value(x),
                            cipher=cipher,
                            subject_id=subject.id,
                            service=x.service,
                            data_type=x.data_type,
                            record_id=x.id,
                        )
                        if stored_value(x) is not None
                        else None,
                        has_blob=x.blob is not None,
                        source=x.source,
                        collected_at=x.collected_at,
                        expires_at=x.expires_at,
                    )
                    for x in found
                ]
                used: dict[str, object] = {
                    "service": service,
                    "purpose": purpose.value,
                    "records": len(found),
                }
                entries.append(AuditEntry(now, actor, "use", ref, used))
            if entries:
                gate.journal.record_many(conn, entries)
    return out
