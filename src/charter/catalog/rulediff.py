"""
What changed in a catalog's rules (its promises), classified like inventory changes.

- ``rule_added``: a new promise; not material (it only adds a protection).
- ``rule_narrowed``: a ``gate`` rule now refuses more, or a rule moved to a kind kept by code
  (device or statement to gate or service); not material.
- ``rule_widened``: a ``gate`` rule now refuses less (or refuses something else), or a rule
  moved away from code (gate or service to device or statement); material.
- ``rule_removed``: a promise withdrawn; material.
- ``rule_changed``: the words or parameters of a rule not kept by the gate changed; material,
  as nothing tells a narrower promise from a wider one there.
- ``rule_reworded``: a ``gate`` rule's words changed, what it refuses did not; not material.

A widened or removed rule that covers other services (``services: all``, a list, or the
sources a purpose never reads) is reported for each of them too, so their consents follow.
"""

from __future__ import annotations

from collections.abc import Iterator

from charter.catalog.catalog import Catalog
from charter.catalog.model import Rule, RuleKind, Service

_CODE_KINDS = frozenset({RuleKind.GATE, RuleKind.SERVICE})

Refusal = tuple[str, ...]
"""One thing a gate rule refuses, e.g. ``("market", type, purpose, market)``."""


def refused_by(catalog: Catalog, service: Service, rule: Rule) -> frozenset[Refusal]:
    """Everything a gate rule refuses, as comparable tuples (empty for other kinds)."""
    gate = rule.gate
    if gate is None:
        return frozenset()
    out: set[Refusal] = set()
    scope = tuple(catalog.services) if gate.services == "all" else (gate.services or (service.id,))
    out |= {("never_stored", sid, t) for sid in scope for t in gate.never_stored}
    out |= {("purpose", sid, p.value) for sid in scope for p in gate.refuse_purposes}
    if gate.sources is not None:
        out |= {("source", sid, gate.sources.purpose.value) for sid in gate.sources.never_from}
    m = gate.markets
    if m is not None:
        listed = m.only if m.only is not None else m.available
        markets = set(catalog.markets) | {"deployment"}
        if listed is None or listed == "all":
            allowed = set(markets)
        elif listed == "deployment":
            allowed = {"deployment"}
        else:
            allowed = set(listed)
        if m.except_ == "deployment":
            allowed.discard("deployment")
        elif isinstance(m.except_, tuple):
            allowed -= set(m.except_)
        if m.function is not None:
            pairs = {
                (c.type, p.value)
                for f in service.functions
                if f.id == m.function
                for c in f.collects
                for p in c.purposes
            }
        else:
            pairs = {(r.type, p.value) for r in service.inventory for p in r.purposes}
        pairs = {
            (t, p)
            for t, p in pairs
            if (m.type is None or t == m.type) and (m.purpose is None or p == m.purpose.value)
        }
        out |= {("market", t, p, market) for t, p in pairs for market in markets - allowed}
    return frozenset(out)


def _affected(catalog: Catalog, service: Service, rule: Rule) -> list[str]:
    gate = rule.gate
    found = [service.id]
    if gate is not None:
        if gate.services == "all":
            found += list(catalog.services)
        elif gate.services:
            found += list(gate.services)
        if gate.sources is not None:
            found += list(gate.sources.never_from)
    return list(dict.fromkeys(s for s in found if s in catalog.services))


def rule_changes(old: Catalog, new: Catalog) -> Iterator[tuple[str, str, str, str]]:
    """Every rule change as (kind, service, rule id, detail), in the new catalog's order."""
    for sid, service in new.services.items():
        before = old.services.get(sid)
        if before is None:
            continue  # a new service: reported as such
        old_rules = {r.id: r for r in before.rules}
        new_rules = {r.id: r for r in service.rules}
        for rid, rule in new_rules.items():
            prior = old_rules.get(rid)
            if prior is None:
                yield "rule_added", sid, rid, f"promise {sid}.{rid} added"
                continue
            kind = _compare(old, before, prior, new, service, rule)
            if kind is not None:
                scope = [sid]
                if kind == "rule_widened":  # what either version covered
                    scope = _affected(new, service, rule) + _affected(new, before, prior)
                for affected in dict.fromkeys(scope):
                    yield kind, affected, rid, f"promise {sid}.{rid} {kind.removeprefix('rule_')}"
        for rid in old_rules.keys() - new_rules.keys():
            for affected in _affected(new, before, old_rules[rid]):
                yield "rule_removed", affected, rid, f"promise {sid}.{rid} removed"


def _compare(
    old: Catalog, old_service: Service, before: Rule, new: Catalog, service: Service, rule: Rule
) -> str | None:
    if before == rule:
        return None
    was_code, is_code = before.kind in _CODE_KINDS, rule.kind in _CODE_KINDS
    if was_code and not is_code:
        return "rule_widened"
    if is_code and not was_code:
        return "rule_narrowed"
    if before.kind is RuleKind.GATE and rule.kind is RuleKind.GATE:
        then = refused_by(old, old_service, before)
        now = refused_by(new, service, rule)
        if then == now:
            return None if before.description == rule.description else "rule_reworded"
        return "rule_narrowed" if then < now else "rule_widened"
    if before.kind is RuleKind.GATE or rule.kind is RuleKind.GATE:
        return "rule_widened"  # gate <-> service: the gate no longer refuses
    return "rule_changed"
