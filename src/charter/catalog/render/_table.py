"""
A service's data inventory as the reference paper prints it: seven cells per row.

Each cell is the row's ``printed`` override for that column when present, else the taxonomy
label. Like the paper, the category cell is left blank on continuation rows of a run of the
same category, and the type cell on continuation rows of the same type. Every renderer of
the table (Markdown, HTML, PDF) goes through :func:`inventory_table`.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.catalog.catalog import Catalog
from charter.catalog.model import InventoryRow, PrintedColumn, Service
from charter.taxonomy import (
    AT_RESTS,
    CATEGORIES,
    DECLARED_AT_REST,
    DECLARED_TRANSIT,
    PURPOSES,
    QUALIFIERS,
    TRANSITS,
    AtRest,
    Transit,
)

COLUMNS: tuple[str, ...] = (
    "Category",
    "Type",
    "Identification Qualifier",
    "Purpose",
    "Data Transmission Encryption Measures",
    "Data Storage Encryption Measures",
    "Data Retention",
)
"""The column headings of the paper's Data Inventory table, in order."""

_KEYS: tuple[PrintedColumn, ...] = (
    "category",
    "type",
    "qualifier",
    "purposes",
    "transit",
    "at_rest",
    "retention",
)
"""The ``printed`` key of each column, in the order of :data:`COLUMNS`."""


@dataclass(frozen=True, slots=True)
class TableRow:
    """
    One printed row of an inventory table.

    ``cells`` are as printed (continuation cells blank); ``full`` has every cell filled in;
    ``row`` is the inventory row it renders.
    """

    cells: tuple[str, ...]
    full: tuple[str, ...]
    row: InventoryRow


def transit_label(transit_id: str) -> str:
    """The label of an in-transit protection id, as declared (``aes_128`` -> ``AES-128``)."""
    declared = DECLARED_TRANSIT.get(transit_id)
    return declared.label if declared else TRANSITS[Transit(transit_id)].label


def at_rest_label(at_rest_id: str) -> str:
    """The label of an at-rest protection id, as declared (``md5`` -> ``MD5``)."""
    declared = DECLARED_AT_REST.get(at_rest_id)
    return declared.label if declared else AT_RESTS[AtRest(at_rest_id)].label


def row_cells(catalog: Catalog, row: InventoryRow) -> tuple[str, ...]:
    """Every cell of one inventory row, ``printed`` overrides applied, none blanked."""
    labels = (
        CATEGORIES[row.category].label,
        catalog.type_label(row.type),
        QUALIFIERS[row.qualifier].label,
        " ".join(PURPOSES[p].label for p in row.purposes),
        ", ".join(transit_label(t) for t in row.transit),
        at_rest_label(row.at_rest),
        row.retention.label,
    )
    return tuple(row.printed.get(key, label) for key, label in zip(_KEYS, labels, strict=True))


def inventory_table(catalog: Catalog, service: Service) -> tuple[TableRow, ...]:
    """
    The rows of a service's inventory table in the catalog's order, grouped as printed.

    The category cell is blank when it repeats the previous row's; the type cell is blank
    when both the category and the type repeat the previous row's.
    """
    out: list[TableRow] = []
    previous: tuple[str, ...] | None = None
    for row in service.inventory:
        full = row_cells(catalog, row)
        same_category = previous is not None and full[0] == previous[0]
        same_type = same_category and previous is not None and full[1] == previous[1]
        cells = ("" if same_category else full[0], "" if same_type else full[1], *full[2:])
        out.append(TableRow(cells=cells, full=full, row=row))
        previous = full
    return tuple(out)


def protection_notes(service: Service) -> tuple[str, ...]:
    """
    One note per weak algorithm the service's table declares, saying what Charter applies.

    Notes are in order of first appearance, each once.
    """
    notes: dict[str, None] = {}
    for row in service.inventory:
        for declared in row.declared_transit:
            notes.setdefault(f"{declared.label} (in transit): {declared.note}")
        rest = row.declared_at_rest
        if rest is not None:
            notes.setdefault(f"{rest.label} (at rest): {rest.note}")
    return tuple(notes)
