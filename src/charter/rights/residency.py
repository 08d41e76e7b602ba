"""
Where a person's data is kept and who is responsible for it: the region their market maps
to, that region's storage providers and locations and, where the catalog names them, the
controller, the processor and the transfer mechanism. The Privacy Center, ``GET
/v1/me/residence`` and the export archive (``export.json`` and ``index.html``) show the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.catalog import Catalog
    from charter.gate import Subject


@dataclass(frozen=True, slots=True)
class Storage:
    """A storage provider and the places it keeps the region's data."""

    provider: str
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Residence:
    """Where a subject's data lives and who answers for it (None: the catalog names none)."""

    market: str
    market_name: str
    region: str
    region_name: str
    storage: tuple[Storage, ...]
    controller: str | None
    processor: str | None
    transfer_mechanism: str | None

    def as_json(self) -> dict[str, Any]:
        """The JSON form used by the API and the export."""
        return {
            "market": self.market,
            "market_name": self.market_name,
            "region": self.region,
            "region_name": self.region_name,
            "storage": [
                {"provider": s.provider, "locations": list(s.locations)} for s in self.storage
            ],
            "controller": self.controller,
            "processor": self.processor,
            "transfer_mechanism": self.transfer_mechanism,
        }


def residence(catalog: Catalog, subject: Subject) -> Residence:
    """Where ``subject``'s data is kept, from the catalog's regions file."""
    market = catalog.markets.get(subject.market)
    region = catalog.regions.get(subject.region)
    if region is None:  # a region the catalog no longer declares: say what is known
        return Residence(
            subject.market,
            market.name if market else subject.market.upper(),
            subject.region,
            subject.region,
            (),
            None,
            None,
            None,
        )
    return Residence(
        market=subject.market,
        market_name=market.name if market else subject.market.upper(),
        region=region.id,
        region_name=region.name,
        storage=tuple(Storage(s.provider, tuple(s.locations)) for s in region.storage),
        controller=region.controller,
        processor=region.processor,
        transfer_mechanism=region.transfer_mechanism,
    )
