"""
Compiling a catalog's ``gate`` rules into lookup tables. Pure.

A gate rule narrows what the inventory allows; it never widens it. Every rule becomes
entries keyed by (service, data type, purpose), so a decision never loops over rules:

- market rules (per function, data type or purpose, or the whole service) become, per key,
  the set of the catalog's markets where every rule allows it and the rule that refuses
  each other market;
- never-stored types, refused purposes and refused sources become refusals that hold in
  every market.

A function's market rule covers the (type, purpose) pairs that function collects, except
pairs another function collects in that market too: the gate sees a type and a purpose,
not which function sent them, so a pair shared with a function offered there stays
allowed. Rules whose markets the deployment names (``deployment``) stay out of the tables,
and are reported pending, until the deployment sets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from charter.catalog import Catalog
from charter.catalog.model import MarketRule, Rule, Service
from charter.taxonomy import Purpose

NEVER_STORED = "never_stored"
PURPOSE_REFUSED = "purpose_refused"
SOURCE_REFUSED = "source_refused"
MARKET_UNAVAILABLE = "market_unavailable"

PairKey = tuple[str, str, Purpose]
"""(service, data type, purpose)."""


def rule_key(service: Service | str, rule: Rule | str) -> str:
    """The catalog-wide id of a rule: ``<service>.<rule>``."""
    sid = service if isinstance(service, str) else service.id
    return f"{sid}.{rule if isinstance(rule, str) else rule.id}"


@dataclass(frozen=True, slots=True)
class GateCheck:
    """A rule's refusal: its id, a stable reason code and the sentence the gate answers."""

    rule: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class RowGate:
    """What the gate rules leave of one (service, type, purpose)."""

    passes: frozenset[str]
    """The catalog's markets where every rule allows it."""
    always: GateCheck | None = None
    """A refusal that holds in every market."""
    by_market: Mapping[str, GateCheck] = field(default_factory=dict)
    """The refusing rule of each other catalog market."""
    outside: GateCheck | None = None
    """The refusal of a market the catalog does not list (a rule naming where it *is*
    offered refuses every other market)."""

    def refusal(self, market: str | None) -> GateCheck | None:
        """The refusing rule in ``market`` (``None``: only refusals that hold everywhere)."""
        if market is None or self.always is not None:
            return self.always
        if market in self.passes:
            return None
        return self.by_market.get(market, self.outside)


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Every gate rule of a catalog, compiled."""

    gates: Mapping[PairKey, RowGate]
    """Per declared (service, type, purpose): what the rules leave of it."""
    by_type: Mapping[tuple[str, str], GateCheck]
    """Never-stored types per service (refused whatever the purpose, declared or not)."""
    by_purpose: Mapping[tuple[str, Purpose], GateCheck]
    """Refused purposes and sources per service."""
    compiled: frozenset[str]
    """The ids of the gate rules in force."""
    pending: frozenset[str]
    """The ids of gate rules waiting for the deployment to name their markets."""


@dataclass
class _Limits:
    """Market limits gathered for one (service, type, purpose) before freezing."""

    refused: dict[str, GateCheck] = field(default_factory=dict)
    outside: GateCheck | None = None


def compile_rules(
    catalog: Catalog, deployment_markets: Mapping[str, tuple[str, ...]] | None = None
) -> CompiledRules:
    """
    Compile the gate rules of a validated catalog.

    Args:
        deployment_markets: per rule id (``<service>.<rule>``), the markets the deployment
            names for a rule whose catalog says ``deployment``.
    """
    chosen = deployment_markets or {}
    all_markets = frozenset(catalog.markets)
    limits: dict[PairKey, _Limits] = {}
    always: dict[PairKey, GateCheck] = {}
    by_type: dict[tuple[str, str], GateCheck] = {}
    by_purpose: dict[tuple[str, Purpose], GateCheck] = {}
    compiled: set[str] = set()
    pending: set[str] = set()
    refinements: dict[str, list[str]] = {}
    for type_id, parent in catalog.kind_of.items():
        refinements.setdefault(parent, []).append(type_id)

    for service in catalog:
        function_limits: dict[
            tuple[str, str, Purpose], list[tuple[GateCheck, frozenset[str], bool]]
        ]
        function_limits = {}
        for rule in service.rules:
            gate = rule.gate
            if gate is None:
                continue
            key = rule_key(service, rule)
            if gate.markets is not None:
                resolved = _markets(gate.markets, all_markets, chosen.get(key))
                if resolved is None:
                    pending.add(key)
                    continue
                allowed, positive = resolved
                check = GateCheck(
                    key,
                    MARKET_UNAVAILABLE,
                    f"{_scope(gate.markets)} of {service.id} is not offered in the subject's "
                    f"market (promise {key})",
                )
                if gate.markets.function is not None:
                    for pair in _function_pairs(service, gate.markets):
                        function_limits.setdefault((gate.markets.function, *pair), []).append(
                            (check, allowed, positive)
                        )
                else:
                    for type_id, purpose in _inventory_pairs(service, gate.markets):
                        _limit(
                            limits,
                            (service.id, type_id, purpose),
                            check,
                            allowed,
                            positive,
                            all_markets,
                        )
                compiled.add(key)
                continue
            scope = catalog.services if gate.services == "all" else (gate.services or (service.id,))
            for type_id in gate.never_stored:
                label = catalog.type_label(type_id)
                for sid in scope:
                    check = GateCheck(
                        key, NEVER_STORED, f"{label} is never stored by {sid} (promise {key})"
                    )
                    for tid in (type_id, *refinements.get(type_id, ())):
                        by_type.setdefault((sid, tid), check)
            for purpose in gate.refuse_purposes:
                for sid in scope:
                    by_purpose.setdefault(
                        (sid, purpose),
                        GateCheck(
                            key,
                            PURPOSE_REFUSED,
                            f"nothing of {sid} may be used for {purpose.value} (promise {key})",
                        ),
                    )
            if gate.sources is not None:
                purpose = gate.sources.purpose
                for sid in gate.sources.never_from:
                    by_purpose.setdefault(
                        (sid, purpose),
                        GateCheck(
                            key,
                            SOURCE_REFUSED,
                            f"{purpose.value} never reads data of {sid} (promise {key})",
                        ),
                    )
            compiled.add(key)
        _fold_functions(service, function_limits, limits, all_markets)

    for service in catalog:
        for row in service.inventory:
            refused_type = by_type.get((service.id, row.type))
            for purpose in row.purposes:
                found = refused_type or by_purpose.get((service.id, purpose))
                if found is not None:
                    always[(service.id, row.type, purpose)] = found
    gates: dict[PairKey, RowGate] = {}
    for key3 in set(limits) | set(always):
        if key3 in always:
            gates[key3] = RowGate(frozenset(), always[key3])
            continue
        lim = limits[key3]
        gates[key3] = RowGate(all_markets - set(lim.refused), None, dict(lim.refused), lim.outside)
    return CompiledRules(gates, by_type, by_purpose, frozenset(compiled), frozenset(pending))


def _markets(
    rule: MarketRule, all_markets: frozenset[str], chosen: tuple[str, ...] | None
) -> tuple[frozenset[str], bool] | None:
    """Where a market rule allows (and whether it names where it *is* offered); ``None``
    while the deployment has not named markets the rule takes from it."""
    if rule.from_deployment and chosen is None:
        return None
    listed = rule.only if rule.only is not None else rule.available
    positive = listed not in (None, "all")
    if listed == "deployment":
        allowed = frozenset(chosen or ())
    elif isinstance(listed, tuple):
        allowed = frozenset(listed)
    else:
        allowed = all_markets
    excluded = rule.except_
    if excluded == "deployment":
        allowed -= frozenset(chosen or ())
    elif isinstance(excluded, tuple):
        allowed -= frozenset(excluded)
    return allowed, positive


def _scope(rule: MarketRule) -> str:
    parts = []
    if rule.function is not None:
        parts.append(f"function {rule.function}")
    if rule.type is not None:
        parts.append(f"data type {rule.type}")
    if rule.purpose is not None:
        parts.append(f"purpose {rule.purpose.value}")
    return ", ".join(parts) if parts else "the service"


def _inventory_pairs(service: Service, rule: MarketRule) -> set[tuple[str, Purpose]]:
    return _declared_pairs(service, rule.type, rule.purpose)


def _declared_pairs(
    service: Service, type_id: str | None, only_purpose: Purpose | None
) -> set[tuple[str, Purpose]]:
    return {
        (row.type, purpose)
        for row in service.inventory
        for purpose in row.purposes
        if (type_id is None or row.type == type_id)
        and (only_purpose is None or purpose is only_purpose)
    }


def _function_pairs(service: Service, rule: MarketRule) -> set[tuple[str, Purpose]]:
    declared = _declared_pairs(service, rule.type, rule.purpose)
    out: set[tuple[str, Purpose]] = set()
    for function in service.functions:
        if function.id != rule.function:
            continue
        for collected in function.collects:
            for purpose in collected.purposes:
                if (collected.type, purpose) in declared:
                    out.add((collected.type, purpose))
    return out


def _limit(
    limits: dict[PairKey, _Limits],
    pair: PairKey,
    check: GateCheck,
    allowed: frozenset[str],
    positive: bool,
    all_markets: frozenset[str],
) -> None:
    lim = limits.setdefault(pair, _Limits())
    for market in sorted(all_markets - allowed):
        lim.refused.setdefault(market, check)
    if positive and lim.outside is None:
        lim.outside = check


def _fold_functions(
    service: Service,
    function_limits: Mapping[
        tuple[str, str, Purpose], list[tuple[GateCheck, frozenset[str], bool]]
    ],
    limits: dict[PairKey, _Limits],
    all_markets: frozenset[str],
) -> None:
    """A pair is refused in a market only when every function collecting it is."""
    pairs = {(type_id, purpose) for _f, type_id, purpose in function_limits}
    for type_id, purpose in sorted(pairs):
        collectors = [
            f.id
            for f in service.functions
            if any(c.type == type_id and purpose in c.purposes for c in f.collects)
        ]
        restricted = [function_limits.get((fid, type_id, purpose)) for fid in collectors]
        if not restricted or any(r is None for r in restricted):
            continue  # another function collects it wherever the service is offered
        allowed: set[str] = set()
        outside: GateCheck | None = None
        every_positive = True
        per_function: list[tuple[GateCheck, frozenset[str]]] = []
        for checks in restricted:
            assert checks is not None
            here = all_markets
            for check, markets, _positive in checks:
                here = here & markets
                per_function.append((check, markets))
            allowed |= here
            positive = [c for c, _m, p in checks if p]
            if positive:
                outside = outside or positive[0]
            else:
                every_positive = False
        lim = limits.setdefault((service.id, type_id, purpose), _Limits())
        for market in sorted(all_markets - allowed):
            check = next(c for c, markets in per_function if market not in markets)
            lim.refused.setdefault(market, check)
        if every_positive and outside is not None and lim.outside is None:
            lim.outside = outside
