"""
Cross-file checks of a service's rules: what a ``gate`` rule names must exist (functions,
data types, purposes, markets, services), a never-stored type must not be stored by the
inventory it covers, and a ``service`` rule's enforcer belongs to its own service.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from charter.catalog._yaml import LocatedDocument
from charter.catalog.model import MarketRule, RuleKind, Service
from charter.catalog.suggest import closest
from charter.errors import Problem
from charter.taxonomy import DataTypeTerm, RetentionKind


def check_rules(
    service: Service,
    file: str,
    doc: LocatedDocument,
    markets: set[str],
    services: Mapping[str, Service],
    data_types: Mapping[str, DataTypeTerm],
) -> Iterator[Problem]:
    """Every cross-reference problem of the rules of one service."""
    for i, rule in enumerate(service.rules):
        where: tuple[str | int, ...] = ("rules", i)
        if rule.kind is RuleKind.SERVICE and rule.enforcer is not None:
            owner = rule.enforcer.split(".", 1)[0]
            if owner != service.id:
                yield _problem(
                    file,
                    doc,
                    (*where, "enforcer"),
                    f"an enforcer id starts with its service's id, e.g. {service.id}.{rule.id}",
                    rule.enforcer,
                    f"{service.id}.{rule.enforcer.split('.', 1)[-1]}",
                )
        if rule.gate is None:
            continue
        gate = rule.gate
        at = (*where, "gate")
        if gate.markets is not None:
            yield from _check_markets(service, gate.markets, file, doc, (*at, "markets"), markets)
        scope = [service.id] if gate.services is None else gate.services
        if scope != "all":
            for k, sid in enumerate(scope):
                if sid not in services:
                    yield _problem(
                        file,
                        doc,
                        (*at, "services", k),
                        "names a service not in the catalog",
                        sid,
                        closest(sid, services),
                    )
        covered = (
            list(services.values())
            if scope == "all"
            else [services[s] for s in scope if s in services]
        )
        for k, type_id in enumerate(gate.never_stored):
            if type_id not in data_types:
                yield _problem(
                    file,
                    doc,
                    (*at, "never_stored", k),
                    "unknown data type; declare it in datatypes.yaml or use a built-in one",
                    type_id,
                    closest(type_id, data_types),
                )
                continue
            for other in covered:
                for row in other.inventory:
                    if row.type == type_id and row.retention.kind is not RetentionKind.NOT_STORED:
                        yield _problem(
                            file,
                            doc,
                            (*at, "never_stored", k),
                            f"the inventory of {other.id} stores this type, which the rule says is "
                            "never stored; remove the row or the type",
                            type_id,
                        )
                        break
        if gate.sources is not None:
            for k, sid in enumerate(gate.sources.never_from):
                if sid not in services:
                    yield _problem(
                        file,
                        doc,
                        (*at, "sources", "never_from", k),
                        "names a service not in the catalog",
                        sid,
                        closest(sid, services),
                    )


def _check_markets(
    service: Service,
    rule: MarketRule,
    file: str,
    doc: LocatedDocument,
    at: tuple[str | int, ...],
    markets: set[str],
) -> Iterator[Problem]:
    functions = {f.id for f in service.functions}
    types = {r.type for r in service.inventory}
    purposes = {str(p) for r in service.inventory for p in r.purposes}
    if rule.function is not None and rule.function not in functions:
        yield _problem(
            file,
            doc,
            (*at, "function"),
            f"names a function {service.id} does not declare",
            rule.function,
            closest(rule.function, functions),
        )
    if rule.type is not None and rule.type not in types:
        yield _problem(
            file,
            doc,
            (*at, "type"),
            f"names a data type the inventory of {service.id} does not declare",
            rule.type,
            closest(rule.type, types),
        )
    if rule.purpose is not None and str(rule.purpose) not in purposes:
        yield _problem(
            file,
            doc,
            (*at, "purpose"),
            f"names a purpose the inventory of {service.id} does not declare",
            str(rule.purpose),
            closest(str(rule.purpose), purposes),
        )
    for key, listed in (
        ("available", rule.available),
        ("only", rule.only),
        ("except", rule.except_),
    ):
        if not isinstance(listed, tuple):
            continue
        for k, market in enumerate(listed):
            if market not in markets:
                yield _problem(
                    file,
                    doc,
                    (*at, key, k),
                    "names a market not in regions.yaml",
                    market,
                    closest(market, markets),
                )


def _problem(
    file: str,
    doc: LocatedDocument,
    path: tuple[str | int, ...],
    message: str,
    value: str,
    suggestion: str | None = None,
) -> Problem:
    pos = doc.locate(path)
    line, column = pos if pos is not None else (None, None)
    dotted = ""
    for part in path:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    return Problem(file, line, column, dotted, message, value, suggestion)
