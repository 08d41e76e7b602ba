"""
Each item, not a count: a person's own records of one service (and data type), a page at a
time, newest first, with when and by which function each was collected, its expiry and its
purposes; and what they can do with one item (correct it, delete it, download its file).

Only the page shown is decrypted (:func:`charter.gate.items.page_items`); keyed hashes and
password hashes are never reversible and are described as such; data types the service
declares but never stores are listed separately. Deleting one item is an R3 erasure of that
record (audited, filed and closed as a ``delete`` request); correcting one is R2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charter.crypto import fingerprint
from charter.errors import NotFoundError, RefusedError
from charter.gate import erasure as gx
from charter.gate import items as gi
from charter.rights import erasure
from charter.taxonomy import AtRest

if TYPE_CHECKING:
    from charter.gate import Gate, Subject

KEPT_WITH_ACCOUNT = frozenset({"account"})
"""Services whose items go only with the account (deleting one could lock the person out)."""


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item as the person sees it."""

    id: str
    reference: str
    service: str
    data_type: str
    label: str
    kind: str
    """``value`` (readable), ``keyed_hash``, ``password_hash``, ``file``, ``unreadable``
    (its key was destroyed) or ``empty``."""
    value: Any
    value_text: str | None
    purposes: tuple[str, ...]
    functions: tuple[str, ...]
    source: str | None
    collected_at: int
    expires_at: int | None
    correctable: bool
    deletable: bool


@dataclass(frozen=True, slots=True)
class NotStored:
    """A data type the service processes without storing it."""

    data_type: str
    label: str
    purposes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemsView:
    """A page of a person's items of one service, and what the page needs around it."""

    service: str
    name: str
    data_type: str | None
    counts: dict[str, int]
    items: tuple[ItemView, ...]
    next_cursor: str | None
    not_stored: tuple[NotStored, ...]


def record_reference(gate: Gate, record_id: str) -> str:
    """The keyed fingerprint of a record id: how an item is named in requests and the log."""
    return fingerprint(gate.keyring.hmac_key, record_id.encode())


def _functions(gate: Gate, service: str) -> dict[str, tuple[str, ...]]:
    found = gate.catalog.services.get(service)
    out: dict[str, list[str]] = {}
    for fn in found.functions if found else ():
        for c in fn.collects:
            out.setdefault(c.type, []).append(fn.name)
    return {k: tuple(v) for k, v in out.items()}


def _function_names(gate: Gate, service: str) -> dict[str, str]:
    found = gate.catalog.services.get(service)
    return {fn.id: fn.name for fn in found.functions} if found else {}


def correctable(gate: Gate, data_type: str, protection: str, has_value: bool) -> bool:
    """Whether a person may correct an item: data they provided, with a value that is not
    a password hash."""
    term = gate.catalog.data_types.get(data_type)
    return (
        has_value
        and protection != AtRest.PASSWORD_HASH.value
        and term is not None
        and term.category.value in erasure.CORRECTABLE_CATEGORIES
    )


def _view(
    gate: Gate, item: gi.Item, functions: dict[str, tuple[str, ...]], names: dict[str, str]
) -> ItemView:
    value = item.value
    text: str | None = None
    if item.protection == AtRest.KEYED_HASH.value:
        kind = "keyed_hash"
    elif item.protection == AtRest.PASSWORD_HASH.value:
        kind = "password_hash"
    elif isinstance(value, dict) and set(value) == {"unavailable"}:
        kind = "unreadable"
    elif value is not None:
        kind = "value"
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    elif item.has_blob:
        kind = "file"
    else:
        kind = "empty"
    by = functions.get(item.data_type, ())
    if item.source in names and names[item.source] not in by:
        by = (names[item.source], *by)
    return ItemView(
        id=item.id,
        reference=record_reference(gate, item.id),
        service=item.service,
        data_type=item.data_type,
        label=gate.catalog.type_label(item.data_type),
        kind=kind,
        value=value if kind in ("value", "keyed_hash") else None,
        value_text=text,
        purposes=item.purposes,
        functions=by,
        source=item.source,
        collected_at=item.collected_at,
        expires_at=item.expires_at,
        correctable=kind == "value" and correctable(gate, item.data_type, item.protection, True),
        deletable=item.service not in KEPT_WITH_ACCOUNT,
    )


def not_stored(gate: Gate, service: str) -> tuple[NotStored, ...]:
    """The data types a service declares but never stores (processed for the request only)."""
    found = gate.catalog.services.get(service)
    out: dict[str, list[str]] = {}
    for row in found.inventory if found else ():
        if row.protection is AtRest.NOT_STORED:
            purposes = out.setdefault(row.type, [])
            purposes.extend(p.value for p in row.purposes if p.value not in purposes)
    return tuple(NotStored(k, gate.catalog.type_label(k), tuple(v)) for k, v in out.items())


def items_page(
    gate: Gate,
    subject: Subject,
    service: str,
    *,
    data_type: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
    actor: str = "subject",
) -> ItemsView:
    """
    One page of the subject's items of ``service`` (optionally one data type).

    Raises:
        NotFoundError: the catalog declares no such service.
        InputError: a malformed cursor or page size.
    """
    found = gate.catalog.services.get(service)
    if found is None:
        raise NotFoundError("no such service", field="service")
    counts = gi.data_type_counts(gate, subject, service)
    page = gi.page_items(
        gate, subject, service=service, data_type=data_type, cursor=cursor, limit=limit, actor=actor
    )
    functions = _functions(gate, service)
    names = _function_names(gate, service)
    return ItemsView(
        service=service,
        name=found.name,
        data_type=data_type,
        counts=counts,
        items=tuple(_view(gate, i, functions, names) for i in page.items),
        next_cursor=page.next_cursor,
        not_stored=not_stored(gate, service),
    )


def delete_item(
    gate: Gate, subject_id: str, record_id: str, *, actor: str = "subject"
) -> erasure.ErasureResult:
    """
    Delete one of the person's items (R3 for one record: audited, filed and closed as a
    ``delete`` request).

    Raises:
        NotFoundError: no such record of this subject.
        RefusedError: the item belongs to the account itself (``kept_with_account``).
    """
    service, _data_type = gx.record_info(gate, subject_id, record_id)
    if service in KEPT_WITH_ACCOUNT:
        raise RefusedError(
            "account details go only with the account; correct the item, or delete the account",
            code="kept_with_account",
            field="record_id",
        )
    return erasure.erase(gate, subject_id, service=service, record_id=record_id, actor=actor)


def item_file(
    gate: Gate, subject: Subject, record_id: str, *, actor: str = "subject"
) -> tuple[str, bytes]:
    """The file of one of the person's items, decrypted: (a download name, the bytes)."""
    item, data = gi.own_blob(gate, subject, record_id, actor=actor)
    return f"{item.service}-{item.data_type}-{item.id[:8]}.bin", data
