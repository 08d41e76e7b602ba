"""
Cross-file checks: references between services, data types, markets, regions and switches.

Each check yields :class:`~charter.errors.Problem` values with positions; the loader refuses
the catalog if any is found.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from charter.catalog._yaml import LocatedDocument
from charter.catalog.model import CatalogInfo, Regions, Service, System
from charter.catalog.rulechecks import check_rules
from charter.catalog.suggest import closest
from charter.errors import Problem
from charter.taxonomy import BUILTIN_DATA_TYPES_BY_ID, DataTypeTerm, Purpose, Qualifier


def check_catalog(
    *,
    folder: Path,
    info: CatalogInfo,
    services: Mapping[str, Service],
    service_docs: Mapping[str, tuple[Path, LocatedDocument]],
    regions: Regions,
    regions_doc: LocatedDocument | None,
    system: System,
    system_doc: LocatedDocument | None,
    data_types: Mapping[str, DataTypeTerm],
    kind_of: Mapping[str, str],
    types_doc: LocatedDocument | None,
) -> list[Problem]:
    """Every cross-reference problem of a catalog whose files each validated on their own."""
    problems: list[Problem] = []
    problems += _check_regions(folder / "regions.yaml", regions, regions_doc)
    problems += _check_system(folder / "system.yaml", system, system_doc)
    for i, (type_id, parent) in enumerate(kind_of.items()):
        if parent not in BUILTIN_DATA_TYPES_BY_ID:
            pos = types_doc.locate(("types", i, "kind_of")) if types_doc else None
            problems.append(
                Problem.located(
                    str(folder / "datatypes.yaml"),
                    pos,
                    f"{type_id}.kind_of",
                    "refines an unknown built-in data type",
                    parent,
                    closest(parent, BUILTIN_DATA_TYPES_BY_ID),
                )
            )
    markets = {m.id for m in regions.markets}
    switches = {s.id for s in system.switches}
    for sid, service in services.items():
        file, doc = service_docs[sid]
        problems += list(_check_service(service, str(file), doc, markets, switches, data_types))
        problems += list(check_rules(service, str(file), doc, markets, services, data_types))
    return problems


def _duplicates(ids: list[str]) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            yield i, value
        seen.add(value)


def _at(doc: LocatedDocument | None, *path: str | int) -> tuple[int | None, int | None]:
    pos = doc.locate(path) if doc is not None else None
    return pos if pos is not None else (None, None)


def _check_regions(file: Path, regions: Regions, doc: LocatedDocument | None) -> list[Problem]:
    out: list[Problem] = []
    region_ids = [r.id for r in regions.regions]
    for i, rid in _duplicates(region_ids):
        out.append(
            Problem(
                str(file),
                *_at(doc, "regions", i, "id"),
                f"regions[{i}].id",
                "duplicate region id",
                rid,
            )
        )
    for i, mid in _duplicates([m.id for m in regions.markets]):
        out.append(
            Problem(
                str(file),
                *_at(doc, "markets", i, "id"),
                f"markets[{i}].id",
                "duplicate market id",
                mid,
            )
        )
    for i, market in enumerate(regions.markets):
        if market.region not in region_ids:
            out.append(
                Problem(
                    str(file),
                    *_at(doc, "markets", i, "region"),
                    f"markets[{i}].region",
                    "names an unknown region",
                    market.region,
                    closest(market.region, region_ids),
                )
            )
    return out


def _check_system(file: Path, system: System, doc: LocatedDocument | None) -> list[Problem]:
    return [
        Problem(
            str(file),
            *_at(doc, "switches", i, "id"),
            f"switches[{i}].id",
            "duplicate switch id",
            sid,
        )
        for i, sid in _duplicates([s.id for s in system.switches])
    ]


def _check_service(
    service: Service,
    file: str,
    doc: LocatedDocument,
    markets: set[str],
    switches: set[str],
    data_types: Mapping[str, DataTypeTerm],
) -> Iterator[Problem]:
    for key in ("available", "excluded"):
        listed = getattr(service.markets, key)
        if listed == "all":
            continue
        for i, market in enumerate(listed):
            if market not in markets:
                yield Problem(
                    file,
                    *_at(doc, "markets", key, i),
                    f"markets.{key}[{i}]",
                    "names a market not in regions.yaml",
                    market,
                    closest(market, markets),
                )

    declared: dict[str, set[str]] = {}
    seen_rows: dict[tuple[str, Qualifier, Purpose], int] = {}
    for i, row in enumerate(service.inventory):
        if row.type not in data_types:
            yield Problem(
                file,
                *_at(doc, "inventory", i, "type"),
                f"inventory[{i}].type",
                "unknown data type; declare it in datatypes.yaml or use a built-in one",
                row.type,
                closest(row.type, data_types),
            )
        declared.setdefault(row.type, set()).update(row.purposes)
        for purpose in row.purposes:
            row_key = (row.type, row.qualifier, purpose)
            if row_key in seen_rows:
                yield Problem(
                    file,
                    *_at(doc, "inventory", i),
                    f"inventory[{i}]",
                    f"duplicate row: {row.type} / {row.qualifier} / {purpose} is already declared by inventory[{seen_rows[row_key]}]",
                    row.type,
                )
            seen_rows[row_key] = i

    for i, fid in _duplicates([f.id for f in service.functions]):
        yield Problem(
            file,
            *_at(doc, "functions", i, "id"),
            f"functions[{i}].id",
            "duplicate function id",
            fid,
        )
    for i, rid in _duplicates([r.id for r in service.rules]):
        yield Problem(file, *_at(doc, "rules", i, "id"), f"rules[{i}].id", "duplicate rule id", rid)

    for fi, function in enumerate(service.functions):
        for ci, collected in enumerate(function.collects):
            where = ("functions", fi, "collects", ci)
            if function.on_device_only or service.on_device_only:
                continue
            if collected.type not in declared:
                yield Problem(
                    file,
                    *_at(doc, *where, "type"),
                    f"functions[{fi}].collects[{ci}].type",
                    "collects a data type the service's inventory does not declare",
                    collected.type,
                    closest(collected.type, declared),
                )
                continue
            for purpose in collected.purposes:
                if purpose not in declared[collected.type]:
                    yield Problem(
                        file,
                        *_at(doc, *where, "purposes"),
                        f"functions[{fi}].collects[{ci}].purposes",
                        f"purpose not declared in the inventory for {collected.type}",
                        str(purpose),
                        closest(str(purpose), declared[collected.type]),
                    )
        for ti, party in enumerate(function.third_parties):
            for k, type_id in enumerate(party.types):
                if type_id not in declared and type_id not in data_types:
                    yield Problem(
                        file,
                        *_at(doc, "functions", fi, "third_parties", ti, "types", k),
                        f"functions[{fi}].third_parties[{ti}].types[{k}]",
                        "shares an unknown data type",
                        type_id,
                        closest(type_id, data_types),
                    )

    for i, switch in enumerate(service.controls.system_switches):
        if switch not in switches:
            yield Problem(
                file,
                *_at(doc, "controls", "system_switches", i),
                f"controls.system_switches[{i}]",
                "names a switch not in system.yaml",
                switch,
                closest(switch, switches),
            )
