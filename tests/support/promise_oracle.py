"""
An oracle for the catalog's ``gate`` rules, written straight from the catalog format (see
docs/catalog-format.md) without the compiled tables: for one (service, type, purpose, market)
it walks every rule and says which ones refuse. Tests compare the gate's decisions with it.
"""

from __future__ import annotations

from collections.abc import Mapping

from charter.catalog import Catalog
from charter.catalog.model import Function, MarketRule, Service
from charter.taxonomy import Purpose


def _allowed(
    rule: MarketRule, markets: frozenset[str], chosen: tuple[str, ...] | None
) -> set[str] | None:
    if (rule.only == "deployment" or rule.except_ == "deployment") and chosen is None:
        return None
    listed = rule.only if rule.only is not None else rule.available
    if listed == "deployment":
        allowed = set(chosen or ())
    elif listed is None or listed == "all":
        allowed = set(markets)
    else:
        allowed = set(listed)
    if rule.except_ == "deployment":
        allowed -= set(chosen or ())
    elif rule.except_ is not None:
        allowed -= set(rule.except_)
    return allowed


def _collects(function: Function, data_type: str, purpose: Purpose) -> bool:
    return any(c.type == data_type and purpose in c.purposes for c in function.collects)


def _function_allows(
    catalog: Catalog,
    service: Service,
    function: Function,
    data_type: str,
    purpose: Purpose,
    market: str,
    deployment: Mapping[str, tuple[str, ...]],
) -> bool:
    for rule in service.rules:
        m = rule.gate.markets if rule.gate is not None else None
        if m is None or m.function != function.id:
            continue
        if (m.type is not None and m.type != data_type) or (
            m.purpose is not None and m.purpose is not purpose
        ):
            continue
        allowed = _allowed(m, frozenset(catalog.markets), deployment.get(f"{service.id}.{rule.id}"))
        if allowed is not None and market not in allowed:
            return False
    return True


def refusing_rules(
    catalog: Catalog,
    service_id: str,
    data_type: str,
    purpose: Purpose,
    market: str | None,
    deployment: Mapping[str, tuple[str, ...]] | None = None,
) -> set[str]:
    """The ids of the gate rules that refuse this; ``market`` None: only market-free rules."""
    chosen = deployment or {}
    out: set[str] = set()
    for owner in catalog:
        for rule in owner.rules:
            gate = rule.gate
            if gate is None:
                continue
            rid = f"{owner.id}.{rule.id}"
            scope = (
                set(catalog.services)
                if gate.services == "all"
                else set(gate.services or (owner.id,))
            )
            if service_id in scope and (
                data_type in gate.never_stored
                or catalog.kind_of.get(data_type) in gate.never_stored
            ):
                out.add(rid)
            if service_id in scope and purpose in gate.refuse_purposes:
                out.add(rid)
            if (
                gate.sources is not None
                and purpose is gate.sources.purpose
                and service_id in gate.sources.never_from
            ):
                out.add(rid)
            m = gate.markets
            if m is None or owner.id != service_id or market is None:
                continue
            allowed = _allowed(m, frozenset(catalog.markets), chosen.get(rid))
            if allowed is None or market in allowed:
                continue
            if (m.type is not None and m.type != data_type) or (
                m.purpose is not None and m.purpose is not purpose
            ):
                continue
            if not any(
                row.type == data_type and purpose in row.purposes for row in owner.inventory
            ):
                continue  # a market rule narrows what the inventory declares
            if m.function is not None:
                function = next(f for f in owner.functions if f.id == m.function)
                if not _collects(function, data_type, purpose):
                    continue
                others = [
                    f
                    for f in owner.functions
                    if f.id != function.id and _collects(f, data_type, purpose)
                ]
                if any(
                    _function_allows(catalog, owner, f, data_type, purpose, market, chosen)
                    for f in others
                ):
                    continue
            out.add(rid)
    return out
