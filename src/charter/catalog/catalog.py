"""
The loaded catalog: every service, region, market, switch and data type, with lookups.

A :class:`Catalog` only exists fully validated (see :func:`charter.catalog.load_catalog`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from charter.catalog.model import (
    CatalogInfo,
    InventoryRow,
    Market,
    Region,
    Regions,
    Service,
    System,
    SystemSwitch,
)
from charter.taxonomy import DataTypeTerm, Purpose


@dataclass(frozen=True)
class Catalog:
    """A validated catalog. Services keep the order the catalog presents them in."""

    info: CatalogInfo
    services: dict[str, Service]
    regions_file: Regions
    system: System
    data_types: dict[str, DataTypeTerm]
    kind_of: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    def __len__(self) -> int:
        return len(self.services)

    @cached_property
    def regions(self) -> dict[str, Region]:
        """Regions by id."""
        return {r.id: r for r in self.regions_file.regions}

    @cached_property
    def markets(self) -> dict[str, Market]:
        """Markets by id (ISO 3166-1 alpha-2, lower case)."""
        return {m.id: m for m in self.regions_file.markets}

    @cached_property
    def switches(self) -> dict[str, SystemSwitch]:
        """System switches by id."""
        return {s.id: s for s in self.system.switches}

    def service(self, service_id: str) -> Service:
        """
        The service with this id.

        Raises:
            KeyError: no such service.
        """
        return self.services[service_id]

    def region_of(self, market: str) -> Region:
        """The region whose storage holds the data of accounts in ``market``."""
        return self.regions[self.markets[market].region]

    def type_label(self, type_id: str) -> str:
        """The label of a data type id."""
        term = self.data_types.get(type_id)
        return term.label if term else type_id

    def rows(self, service_id: str, type_id: str) -> tuple[InventoryRow, ...]:
        """Every inventory row of a service for one data type, in declaration order."""
        return tuple(r for r in self.services[service_id].inventory if r.type == type_id)

    def declared_purposes(self, service_id: str, type_id: str) -> frozenset[Purpose]:
        """Every purpose the service declares for a data type."""
        return frozenset(p for r in self.rows(service_id, type_id) for p in r.purposes)
