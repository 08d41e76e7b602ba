"""
:func:`read_published`: records their authors published for everyone (a page of an app's
public reviews), read for a public listing.

Each author is decided exactly as :func:`~charter.gate.many.read_many` decides a subject
(:func:`~charter.gate.many.read_in`: status, switches, market and the catalog's gate rules;
expired records never): an author who withdrew the service's authorization, was erased or is
unknown is left out, so their records never show. What differs is the audit. A public
listing is the service showing what its authors published for everyone, to anyone who asks;
it is audited as **one** ``use`` entry per page read, naming no one (no subject reference,
only the service, purpose, data type and counts: records shown, authors shown, authors
refused by reason), instead of one entry per author on every anonymous page view. The
records are read in a read-only snapshot (no writer lock), and the page's entry is
group-committed by :class:`~charter.gate.grouped.GroupAudit`: durable before the page is
handed out (nothing read leaves unaudited; a failed append fails the read), concurrent page
reads sharing one commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from charter.errors import InputError
from charter.gate.facade import Gate
from charter.gate.grouped import GroupAudit
from charter.gate.journal import AuditEntry
from charter.gate.many import by_region, read_in
from charter.gate.model import RecordOut
from charter.taxonomy import Purpose

ACTION = "use"
AUDIENCE = "public"
"""``detail.audience`` of a public listing's entry."""


def read_published(
    gate: Gate,
    audit: GroupAudit,
    records_by_author: Mapping[str, Iterable[str]],
    *,
    service: str,
    purpose: Purpose,
    data_type: str,
    actor: str,
) -> dict[str, list[RecordOut]]:
    """
    Per author allowed to be read now, those of their records named in
    ``records_by_author`` (of ``service`` and ``data_type``, usable for ``purpose``).

    Raises:
        InputError: unknown service.
        Exception: the audit entry could not be made durable (nothing is returned).
    """
    if service not in gate.compiled.types_by_service:
        raise InputError("unknown service; the catalog does not declare it", field="service")
    wanted = {author: set(ids) for author, ids in records_by_author.items()}
    out: dict[str, list[RecordOut]] = {}
    for region, authors in by_region(gate, wanted).items():
        ids = sorted({rid for a in authors for rid in wanted[a.id]})
        engine = gate.stores.region(region)
        with engine.connect().execution_options(readonly=True) as conn, conn.begin():
            found, entries = read_in(
                gate, conn, authors, service=service, purpose=purpose, data_type=data_type,
                record_ids=ids, actor=actor,
            )  # fmt: skip
        shown = {a: [r for r in rs if r.id in wanted[a]] for a, rs in found.items()}
        refused = Counter(str(e.detail.get("reason")) for e in entries if e.action == "refuse")
        detail: dict[str, object] = {
            "service": service,
            "purpose": purpose.value,
            "data_type": data_type,
            "audience": AUDIENCE,
            "records": sum(len(rs) for rs in shown.values()),
            "authors": sum(1 for rs in shown.values() if rs),
            "refused": dict(sorted(refused.items())),
        }
        audit.append(region, [AuditEntry(gate.clock(), actor, ACTION, None, detail)])
        out.update(shown)
    return out
