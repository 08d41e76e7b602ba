"""
Helpers shared by the app-store answer renderers (Apple App Privacy, Google Data safety).

Both stores ask, per kind of data, what is collected, why and whether it leaves for third
parties; these helpers read that from the catalog the same way for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from charter.catalog.catalog import Catalog
from charter.catalog.model import InventoryRow, Service
from charter.taxonomy import Category, Purpose, RetentionKind

V = TypeVar("V")


def resolve(
    catalog: Catalog,
    type_id: str,
    table: Mapping[str, V],
    category: Category,
    fallback: Mapping[Category, V],
) -> V:
    """
    Map a data type to a store's term.

    The type's own id is looked up first, then the built-in type it refines (``kind_of``),
    then keys of the form ``*suffix`` (``*_consumer_number``), then the row's category.
    """
    seen: set[str] = set()
    current: str | None = type_id
    while current is not None and current not in seen:
        if current in table:
            return table[current]
        seen.add(current)
        current = catalog.kind_of.get(current)
    for key, value in table.items():
        if key.startswith("*") and type_id.endswith(key[1:]):
            return value
    return fallback[category]


def shared_for(service: Service, type_id: str, purpose: Purpose | None = None) -> tuple[str, ...]:
    """Recipients outside the controller that receive ``type_id`` (for ``purpose``, if given)."""
    out: dict[str, None] = {}
    for function in service.functions:
        for tp in function.third_parties:
            if type_id in tp.types and (purpose is None or tp.purpose is purpose):
                out.setdefault(tp.recipient)
    return tuple(out)


def collected_rows(service: Service) -> tuple[InventoryRow, ...]:
    """The rows a store counts as collected: sent off the device and kept (not ``not_stored``)."""
    if service.on_device_only:
        return ()
    return tuple(r for r in service.inventory if r.retention.kind is not RetentionKind.NOT_STORED)


def ephemeral_rows(service: Service) -> tuple[InventoryRow, ...]:
    """The rows processed only to serve a request and never stored."""
    if service.on_device_only:
        return ()
    return tuple(r for r in service.inventory if r.retention.kind is RetentionKind.NOT_STORED)


def catalog_header(catalog: Catalog) -> dict[str, str]:
    """The catalog's id, name and version for the head of an answers document."""
    return {"id": catalog.info.id, "name": catalog.info.name, "version": catalog.info.version}
