"""
The person's own items: one page of a subject's records of a service (optionally one data
type), newest first, with only that page decrypted, and one blob of a record.

These are the reads behind "see each item" in the Privacy Center and ``GET
/v1/me/records``: the data goes to its own subject, never to a service, so no purpose rule
applies; each page shown is audited (``view``, counts only) in the subject's region.

Paging is keyset on ``(collected_at, id)`` descending: the cursor is the last item of the
previous page, so a page costs the same wherever it is and items collected meanwhile do
not shift later pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

from charter.errors import InputError, NotFoundError
from charter.gate.blobs import INLINE, read_blob
from charter.gate.facade import Gate
from charter.gate.model import Subject, purposes_of
from charter.gate.read import revealed_value
from charter.store import schema as t
from charter.taxonomy import AtRest

MAX_PAGE = 100
"""The most items one page holds."""


@dataclass(frozen=True, slots=True)
class Item:
    """One record as its own subject sees it (the value revealed for them alone)."""

    id: str
    service: str
    data_type: str
    qualifier: str
    purposes: tuple[str, ...]
    protection: str
    value: Any
    has_blob: bool
    source: str | None
    collected_at: int
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class ItemPage:
    """One page of items and the cursor of the next (None on the last page)."""

    items: tuple[Item, ...]
    next_cursor: str | None


def parse_cursor(cursor: str | None) -> tuple[int, str] | None:
    """
    ``"<collected_at>.<record id>"`` as a pair (None for the first page).

    Raises:
        InputError: a malformed cursor.
    """
    if not cursor:
        return None
    at, _, rid = cursor.partition(".")
    if not at.isdigit() or len(at) > 19 or len(rid) != 32 or not _hex(rid):
        raise InputError(
            "the page cursor is not valid; start again from the first page", field="cursor"
        )
    return int(at), rid


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def data_type_counts(gate: Gate, subject: Subject, service: str) -> dict[str, int]:
    """How many records of each data type the gate holds for a subject in one service."""
    r = t.records
    query = (
        select(r.c.data_type, func.count())
        .where(r.c.subject_id == subject.id, r.c.service == service)
        .group_by(r.c.data_type)
    )
    with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
        return {row[0]: int(row[1]) for row in conn.execute(query)}


def page_items(
    gate: Gate,
    subject: Subject,
    *,
    service: str,
    data_type: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
    actor: str = "subject",
) -> ItemPage:
    """
    One page of a subject's records of ``service`` (and ``data_type``), newest first; only
    the page's values are decrypted. Audited as a ``view`` with the count.

    Raises:
        InputError: a malformed cursor or a page size outside 1-100.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"a page holds 1 to {MAX_PAGE} items", field="limit")
    after = parse_cursor(cursor)
    r = t.records
    where: list[Any] = [r.c.subject_id == subject.id, r.c.service == service]
    if data_type is not None:
        where.append(r.c.data_type == data_type)
    if after is not None:
        at, rid = after
        where.append(or_(r.c.collected_at < at, and_(r.c.collected_at == at, r.c.id < rid)))
    query = (
        select(r).where(*where).order_by(r.c.collected_at.desc(), r.c.id.desc()).limit(limit + 1)
    )
    with gate.stores.region(subject.region).begin() as conn:
        rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        needs_key = any(x.protection == AtRest.FIELD_ENCRYPTION.value for x in rows)
        cipher = gate.keys.cipher(conn, subject.id, subject.region) if needs_key else None
        items = tuple(
            Item(
                id=x.id,
                service=x.service,
                data_type=x.data_type,
                qualifier=x.qualifier,
                purposes=purposes_of(x.purposes),
                protection=x.protection,
                value=revealed_value(x, cipher),
                has_blob=x.blob is not None,
                source=x.source,
                collected_at=x.collected_at,
                expires_at=x.expires_at,
            )
            for x in rows
        )
        detail = {"service": service, "data_type": data_type, "records": len(items)}
        gate.journal.record(conn, actor, "view", subject.id, detail)
    last = items[-1] if items and more else None
    return ItemPage(items, f"{last.collected_at}.{last.id}" if last else None)


def own_blob(
    gate: Gate, subject: Subject, record_id: str, *, actor: str = "subject"
) -> tuple[Item, bytes]:
    """
    One of the subject's own records that holds a file, and the file decrypted; audited as
    a ``view`` of that record's service.

    Raises:
        NotFoundError: no such record of this subject, it holds no file, or the file or
            its key is gone.
    """
    r = t.records
    with gate.stores.region(subject.region).begin() as conn:
        x = conn.execute(select(r).where(r.c.id == record_id, r.c.subject_id == subject.id)).first()
        if x is None or x.blob is None:
            raise NotFoundError("no such file among your items", field="record_id")
        cipher = gate.keys.cipher(conn, subject.id, subject.region)
        if cipher is None:
            raise NotFoundError("the file is no longer available", field="record_id")
        data = read_blob(
            gate.stores.blob_dir(subject.region), cipher, subject.id, x.id, x.blob, x.value
        )
        detail = {"service": x.service, "data_type": x.data_type, "files": 1}
        gate.journal.record(conn, actor, "view", subject.id, detail)
    item = Item(
        x.id,
        x.service,
        x.data_type,
        x.qualifier,
        purposes_of(x.purposes),
        x.protection,
        None,
        True,
        x.source,
        x.collected_at,
        x.expires_at,
    )
    return item, data


@dataclass(frozen=True, slots=True)
class ItemMeta:
    """What a record is, without its value (for staff, who never see values)."""

    id: str
    service: str
    data_type: str
    protection: str
    has_value: bool
    collected_at: int


def item_metadata(gate: Gate, subject: Subject, *, service: str | None = None) -> list[ItemMeta]:
    """Every record of a subject (of one service), newest first, without values."""
    r = t.records
    query = select(
        r.c.id,
        r.c.service,
        r.c.data_type,
        r.c.protection,
        r.c.value.is_not(None) & r.c.blob.is_distinct_from(INLINE),
        r.c.collected_at,
    ).where(r.c.subject_id == subject.id)
    if service is not None:
        query = query.where(r.c.service == service)
    query = query.order_by(r.c.collected_at.desc(), r.c.id.desc())
    with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
        return [ItemMeta(x[0], x[1], x[2], x[3], bool(x[4]), x[5]) for x in conn.execute(query)]
