"""
Property tests of gate rules: random rules on the built-in catalog never let the compiled
policy allow what a rule forbids (checked against the oracle, which reads the rules directly),
and the loader reports an invalid rule at its file and line with a suggestion.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.catalog import Catalog, builtin_catalog_path, load_catalog
from charter.catalog.model import Rule
from charter.errors import CatalogError
from charter.policy import SubjectKind, compile_catalog, decide_collect
from charter.taxonomy import Purpose, Qualifier
from support.promise_oracle import refusing_rules

BASE = load_catalog()
MARKETS = sorted(BASE.markets)
SERVICES = [s.id for s in BASE if not s.on_device_only]
NOW = 1_767_225_600_000_000
KINDS = {
    Qualifier.IDENTIFIED: SubjectKind.ACCOUNT,
    Qualifier.PSEUDONYMIZED: SubjectKind.APP_INSTANCE,
}


@st.composite
def market_lists(draw: st.DrawFn) -> object:
    return draw(
        st.one_of(
            st.just("deployment"),
            st.lists(st.sampled_from(MARKETS), min_size=1, max_size=8, unique=True).map(tuple),
        )
    )


@st.composite
def gate_rule(draw: st.DrawFn, service_id: str, index: int) -> Rule:
    service = BASE.service(service_id)
    clause = draw(st.sampled_from(("markets", "never_stored", "refuse_purposes", "sources")))
    gate: dict[str, object]
    if clause == "markets":
        markets: dict[str, object] = {}
        if service.functions and draw(st.booleans()):
            markets["function"] = draw(st.sampled_from([f.id for f in service.functions]))
        if draw(st.booleans()):
            markets["type"] = draw(st.sampled_from(sorted({r.type for r in service.inventory})))
        if draw(st.booleans()):
            markets["purpose"] = draw(
                st.sampled_from(sorted({p.value for r in service.inventory for p in r.purposes}))
            )
        positive = draw(st.sampled_from(("only", "available", "except", "both")))
        if positive in ("only", "both"):
            markets["only"] = draw(market_lists())
        if positive == "available":
            markets["available"] = draw(
                st.one_of(st.just("all"), market_lists().filter(lambda v: v != "deployment"))
            )
        if positive in ("except", "both"):
            markets["except"] = draw(market_lists())
        gate = {"markets": markets}
    elif clause == "never_stored":
        types = sorted({r.type for s in BASE for r in s.inventory} | {"card_cvv"})
        gate = {
            "never_stored": draw(
                st.lists(st.sampled_from(types), min_size=1, max_size=3, unique=True)
            )
        }
        gate["services"] = draw(
            st.one_of(
                st.just("all"),
                st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True),
            )
        )
    elif clause == "refuse_purposes":
        gate = {
            "refuse_purposes": draw(
                st.lists(
                    st.sampled_from([p.value for p in Purpose]), min_size=1, max_size=2, unique=True
                )
            ),
            "services": draw(
                st.one_of(
                    st.just("all"),
                    st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True),
                )
            ),
        }
    else:
        gate = {
            "sources": {
                "purpose": draw(st.sampled_from([p.value for p in Purpose])),
                "never_from": draw(
                    st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True)
                ),
            }
        }
    return Rule.model_validate(
        {"id": f"random_{index}", "description": "A random rule.", "kind": "gate", "gate": gate}
    )


@st.composite
def ruled_catalogs(draw: st.DrawFn) -> tuple[Catalog, dict[str, tuple[str, ...]], list[str]]:
    owners = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4))
    services = {k: s.model_copy(update={"rules": ()}) for k, s in BASE.services.items()}
    for i, owner in enumerate(owners):
        rule = draw(gate_rule(owner, i))
        services[owner] = services[owner].model_copy(
            update={"rules": (*services[owner].rules, rule)}
        )
    catalog = replace(BASE, services=services)
    chosen: dict[str, tuple[str, ...]] = {}
    for service in catalog:
        for rule in service.rules:
            markets = rule.gate.markets if rule.gate else None
            if markets is not None and markets.from_deployment and draw(st.booleans()):
                chosen[f"{service.id}.{rule.id}"] = tuple(
                    draw(st.lists(st.sampled_from(MARKETS), min_size=1, max_size=5, unique=True))
                )
    markets = draw(st.lists(st.sampled_from(MARKETS), min_size=3, max_size=6, unique=True))
    return catalog, chosen, markets


@pytest.mark.promise("get_apps.points_mall_markets", "pay.cvv_never_stored")
@given(ruled_catalogs())
def test_compiled_policy_never_allows_what_a_rule_forbids(
    case: tuple[Catalog, dict[str, tuple[str, ...]], list[str]],
) -> None:
    catalog, chosen, markets = case
    compiled = compile_catalog(catalog, chosen)
    switches = dict.fromkeys(compiled.defaults, True)
    touched = {s.id for s in catalog if s.rules}
    for rule in (r for s in catalog for r in s.rules):
        gate = rule.gate
        assert gate is not None
        if gate.services not in (None, "all"):
            touched |= set(gate.services)
        if gate.sources is not None:
            touched |= set(gate.sources.never_from)
    if any(r.gate and r.gate.services == "all" for s in catalog for r in s.rules):
        touched = set(SERVICES)
    for sid in sorted(touched):
        service = catalog.service(sid)
        offered_in = compiled.markets_by_service[sid]
        for row in service.inventory:
            for purpose in Purpose:
                for market in markets:
                    decision = decide_collect(
                        compiled,
                        service=sid,
                        data_type=row.type,
                        purpose=purpose,
                        kind=KINDS[row.qualifier],
                        market=market,
                        switches=switches,
                        now=NOW,
                    )
                    forbidden = refusing_rules(catalog, sid, row.type, purpose, market, chosen)
                    if forbidden:
                        assert not decision.allowed, (sid, row.type, purpose, market, forbidden)
                        continue
                    offered = market not in compiled.excluded_by_service[sid] and (
                        offered_in is None or market in offered_in
                    )
                    if offered and purpose in row.purposes:
                        assert decision.allowed, (sid, row.type, purpose, market, decision)


INVALID = {
    # (rule YAML lines after "- id: ...", the offending value, its suggestion)
    "kind": (["    kind: gaet", "    gate: {never_stored: [card_cvv]}"], "gaet", "gate"),
    "function": (
        ["    kind: gate", "    gate:", '      markets: {function: points_mal, only: ["in"]}'],
        "points_mal",
        "points_mall",
    ),
    "type": (
        ["    kind: gate", "    gate:", '      markets: {type: search_histroy, except: ["es"]}'],
        "search_histroy",
        "search_history",
    ),
    "never_stored": (
        ["    kind: gate", "    gate:", "      never_stored: [card_cv]"],
        "card_cv",
        "card_cvv",
    ),
    "source": (
        [
            "    kind: gate",
            "    gate:",
            "      sources: {purpose: advertising, never_from: [clod]}",
        ],
        "clod",
        "cloud",
    ),
    "purpose": (
        ["    kind: gate", "    gate:", "      refuse_purposes: [model_trainig]"],
        "model_trainig",
        "model_training",
    ),
    "enforcer": (
        ["    kind: service", "    enforcer: cloud.trash_window"],
        "cloud.trash_window",
        "get_apps.trash_window",
    ),
}


@given(st.sampled_from(sorted(INVALID)), st.integers(min_value=0, max_value=3))
def test_loader_reports_an_invalid_rule_at_file_and_line_with_a_suggestion(
    tmp_path_factory: pytest.TempPathFactory, which: str, blank_lines: int
) -> None:
    folder = tmp_path_factory.mktemp("catalog")
    shutil.copytree(builtin_catalog_path(), folder, dirs_exist_ok=True)
    lines, value, suggestion = INVALID[which]
    file = folder / "get_apps.yaml"
    text = file.read_text(encoding="utf-8").rstrip("\n")
    text += (
        "\n" * (blank_lines + 1)
        + "  - id: a_broken_rule\n    description: A rule with a mistake.\n"
    )
    first = text.count("\n") + 1
    text += "\n".join(lines) + "\n"
    file.write_text(text, encoding="utf-8")
    expected_line = first + next(i for i, line in enumerate(lines) if value in line)
    with pytest.raises(CatalogError) as info:
        load_catalog(folder)
    found = [p for p in info.value.problems if p.value == value]
    assert found, [str(p) for p in info.value.problems]
    problem = found[0]
    assert problem.file.endswith("get_apps.yaml")
    assert problem.line == expected_line, str(problem)
    assert problem.suggestion == suggestion, str(problem)
