"""
A record of processing activities (GDPR art. 30 style) as CSV.

One row per service x inventory row x purpose. Declared weak algorithms are reported next
to what Charter applies; the controller is that of every region the service's markets
store data in (regions that declare none are left out).
"""

from __future__ import annotations

import csv
import io

from charter.catalog.catalog import Catalog
from charter.catalog.model import InventoryRow, Markets, Service
from charter.catalog.render._answers import shared_for
from charter.catalog.render._content import service_regions
from charter.catalog.render._table import at_rest_label, transit_label
from charter.taxonomy import AT_RESTS, CATEGORIES, PURPOSES, QUALIFIERS, TRANSITS

COLUMNS: tuple[str, ...] = (
    "service_id",
    "service",
    "data_type",
    "data_type_label",
    "category",
    "purpose",
    "qualifier",
    "transit",
    "at_rest_declared",
    "at_rest_applied",
    "retention",
    "markets",
    "third_parties",
    "controller",
)
"""The CSV header."""


def markets_field(markets: Markets) -> str:
    """Markets as ids: ``all``, ``all except cn`` or ``in ru``."""
    text = "all" if markets.available == "all" else " ".join(markets.available)
    if markets.excluded:
        text += " except " + " ".join(markets.excluded)
    return text


def transit_field(row: InventoryRow) -> str:
    """The in-transit protections applied, with the declared label where it differs."""
    parts: list[str] = []
    for declared_id, applied in zip(row.transit, row.transit_protections, strict=True):
        label = TRANSITS[applied].label
        declared = transit_label(declared_id)
        parts.append(label if declared == label else f"{label} (declared: {declared})")
    return ", ".join(parts)


def rows(catalog: Catalog, service: Service) -> list[dict[str, str]]:
    """The records of one service, one per inventory row and purpose."""
    if service.on_device_only:
        return []
    regions = service_regions(catalog, service)
    controller = "; ".join(f"{r.name}: {r.controller}" for r in regions if r.controller)
    out: list[dict[str, str]] = []
    for row in service.inventory:
        for purpose in row.purposes:
            out.append(
                {
                    "service_id": service.id,
                    "service": service.name,
                    "data_type": row.type,
                    "data_type_label": catalog.type_label(row.type),
                    "category": CATEGORIES[row.category].label,
                    "purpose": PURPOSES[purpose].label,
                    "qualifier": QUALIFIERS[row.qualifier].label,
                    "transit": transit_field(row),
                    "at_rest_declared": at_rest_label(row.at_rest),
                    "at_rest_applied": AT_RESTS[row.protection].label,
                    "retention": row.retention.label,
                    "markets": markets_field(service.markets),
                    "third_parties": "; ".join(shared_for(service, row.type, purpose)),
                    "controller": controller,
                }
            )
    return out


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The record of processing activities as CSV (RFC 4180, CRLF line ends)."""
    del whole  # one document shape, whether for one service or all
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for service in services:
        writer.writerows(rows(catalog, service))
    return buffer.getvalue().encode("utf-8")
