"""
The catalog's ``gate`` rules in the policy decision, in process: for every gate rule of the
built-in catalog, the matrix over markets x purposes x switches shows the rule refusing exactly
what it names (with its reason and id) and the rest left to the inventory and the switches.
The expected refusals come from an oracle that reads the rules directly
(:mod:`support.promise_oracle`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest

from charter.catalog import load_catalog
from charter.policy import (
    CompiledCatalog,
    Decision,
    Reason,
    SubjectKind,
    compile_catalog,
    decide_collect,
    decide_use,
)
from charter.taxonomy import Purpose, Qualifier
from support.promise_oracle import refusing_rules

CATALOG = load_catalog()
COMPILED = compile_catalog(CATALOG)
NOW = 1_767_225_600_000_000
GATE_RULES = (
    "advertisement.excluded_sources",
    "advertisement.no_user_content_for_ads",
    "ai_technology.biometrics_never_uploaded",
    "ai_technology.no_training_on_user_data",
    "cloud.browser_sync_markets",
    "get_apps.points_mall_markets",
    "get_apps.recommendations_market_exclusion",
    "pay.bill_payment_markets",
    "pay.cvv_never_stored",
    "themes.market_exclusion",
    "video.personalized_trending_markets",
)
"""Every gate rule of the built-in catalog (a new one fails the first test until listed)."""
RULE_REASONS = {
    Reason.MARKET_UNAVAILABLE,
    Reason.NEVER_STORED,
    Reason.PURPOSE_REFUSED,
    Reason.SOURCE_REFUSED,
}
KINDS = {
    Qualifier.IDENTIFIED: SubjectKind.ACCOUNT,
    Qualifier.PSEUDONYMIZED: SubjectKind.APP_INSTANCE,
}


@dataclass(frozen=True)
class Cell:
    service: str
    data_type: str
    qualifier: Qualifier
    purpose: Purpose
    market: str
    switches_on: bool
    decision: Decision
    refusing: frozenset[str]


def _offered(compiled: CompiledCatalog, service: str, market: str) -> bool:
    allowed = compiled.markets_by_service[service]
    return market not in compiled.excluded_by_service[service] and (
        allowed is None or market in allowed
    )


@cache
def matrix() -> tuple[Cell, ...]:
    """Every (service, type, qualifier) of the catalog plus every type a rule names, for every
    purpose, market and both switch states (all on, all off)."""
    named = {t for s in CATALOG for r in s.rules if r.gate for t in r.gate.never_stored}
    cells: list[Cell] = []
    for service in CATALOG:
        pairs = {(row.type, row.qualifier) for row in service.inventory}
        pairs |= {(t, Qualifier.IDENTIFIED) for t in named}
        for data_type, qualifier in sorted(pairs):
            for purpose in Purpose:
                keys = set()
                for q in Qualifier:
                    row = COMPILED.row(service.id, data_type, q, purpose)
                    if row is not None:
                        keys |= set(row.switches_by_purpose[purpose])
                for on in (True, False):
                    switches = dict.fromkeys(COMPILED.defaults, on)
                    for market in sorted(CATALOG.markets):
                        decision = decide_collect(
                            COMPILED,
                            service=service.id,
                            data_type=data_type,
                            purpose=purpose,
                            kind=KINDS[qualifier],
                            market=market,
                            switches=switches,
                            now=NOW,
                        )
                        refusing = refusing_rules(CATALOG, service.id, data_type, purpose, market)
                        cells.append(
                            Cell(
                                service.id,
                                data_type,
                                qualifier,
                                purpose,
                                market,
                                on,
                                decision,
                                frozenset(refusing),
                            )
                        )
    return tuple(cells)


def test_every_gate_rule_is_compiled_or_pending() -> None:
    assert set(GATE_RULES) == {f"{s.id}.{r.id}" for s in CATALOG for r in s.rules if r.gate}
    assert set(GATE_RULES) == set(COMPILED.rules.compiled) | set(COMPILED.rules.pending)
    assert COMPILED.rules.pending == {"themes.market_exclusion"}


@pytest.mark.promise(*GATE_RULES)
@pytest.mark.parametrize("rule_id", GATE_RULES)
def test_gate_rule_refuses_exactly_what_it_names(rule_id: str) -> None:
    if rule_id in COMPILED.rules.pending:
        named = [c for c in matrix() if rule_id in c.refusing]
        assert named == []  # a pending rule refuses nothing (the oracle skips it too)
        return
    named = [c for c in matrix() if rule_id in c.refusing]
    assert named, f"{rule_id} names nothing in the built-in catalog"
    for cell in named:
        if not _offered(COMPILED, cell.service, cell.market) and cell.decision.reason in (
            Reason.MARKET_UNAVAILABLE,
            Reason.UNKNOWN_SERVICE,
            Reason.ON_DEVICE_ONLY,
        ):
            continue  # refused before any rule: the service is not offered there
        assert not cell.decision.allowed, cell
        if cell.service in COMPILED.on_device_services:
            assert cell.decision.reason is Reason.ON_DEVICE_ONLY
            continue
        assert cell.decision.reason in RULE_REASONS, cell
        assert cell.decision.rule in cell.refusing, cell
        assert f"promise {cell.decision.rule}" in cell.decision.message
    # the rest of the same service is left to the inventory and the switches
    owner = rule_id.split(".", 1)[0]
    rest = [
        c
        for c in matrix()
        if c.service == owner
        and not c.refusing
        and c.switches_on
        and _offered(COMPILED, c.service, c.market)
        and COMPILED.row(c.service, c.data_type, c.qualifier, c.purpose) is not None
    ]
    for cell in rest:
        assert cell.decision.allowed, cell


def test_rules_never_allow_what_they_refuse_and_leave_the_rest_to_the_inventory() -> None:
    for cell in matrix():
        declared = COMPILED.row(cell.service, cell.data_type, cell.qualifier, cell.purpose)
        if cell.refusing:
            assert not cell.decision.allowed, cell
            if cell.decision.rule is not None:
                assert cell.decision.rule in cell.refusing
        elif declared is None:
            assert not cell.decision.allowed
            assert cell.decision.rule is None, cell
        elif not cell.switches_on:
            # switches still govern: every row of a service with switches is refused when off
            assert cell.decision.rule is None, cell
            if declared.switches_by_purpose[cell.purpose]:
                assert not cell.decision.allowed, cell
        else:
            assert cell.decision.allowed == _offered(COMPILED, cell.service, cell.market), cell


def _collect(service: str, data_type: str, purpose: Purpose, market: str) -> Decision:
    return decide_collect(
        COMPILED,
        service=service,
        data_type=data_type,
        purpose=purpose,
        kind=SubjectKind.ACCOUNT,
        market=market,
        switches=dict.fromkeys(COMPILED.defaults, True),
        now=NOW,
    )


@pytest.mark.promise("get_apps.recommendations_market_exclusion")
def test_get_apps_personalization_is_refused_in_spain_only() -> None:
    for data_type in ("gaid", "app_list", "product_interaction", "locale_region_settings"):
        spain = _collect("get_apps", data_type, Purpose.PERSONALIZATION, "es")
        assert (spain.allowed, spain.reason) == (False, Reason.MARKET_UNAVAILABLE)
        assert spain.rule == "get_apps.recommendations_market_exclusion"
        for market in ("in", "ru", "id"):
            assert _collect("get_apps", data_type, Purpose.PERSONALIZATION, market).allowed
    assert _collect("get_apps", "gaid", Purpose.APP_FUNCTIONALITY, "es").allowed


@pytest.mark.promise("get_apps.points_mall_markets")
def test_points_mall_records_only_in_india() -> None:
    for market in ("ru", "es", "id"):
        d = _collect("get_apps", "points_redeem_records", Purpose.APP_FUNCTIONALITY, market)
        assert (d.allowed, d.rule) == (False, "get_apps.points_mall_markets")
        # the account id is also collected by ratings and reviews, offered there: still allowed
        assert _collect("get_apps", "mi_account_id", Purpose.APP_FUNCTIONALITY, market).allowed
    assert _collect("get_apps", "points_redeem_records", Purpose.APP_FUNCTIONALITY, "in").allowed


@pytest.mark.promise("pay.cvv_never_stored")
def test_cvv_is_refused_by_kind_with_its_reason() -> None:
    d = _collect("pay", "card_cvv", Purpose.APP_FUNCTIONALITY, "in")
    assert (d.allowed, d.reason, d.rule) == (False, Reason.NEVER_STORED, "pay.cvv_never_stored")
    assert d.message == "CVV is never stored by pay (promise pay.cvv_never_stored)"


@pytest.mark.promise("ai_technology.no_training_on_user_data")
def test_model_training_is_refused_for_every_service() -> None:
    for service in CATALOG.services:
        d = _collect(service, "gaid", Purpose.MODEL_TRAINING, "in")
        assert not d.allowed
        if service not in COMPILED.on_device_services:
            assert (d.reason, d.rule) == (
                Reason.PURPOSE_REFUSED,
                "ai_technology.no_training_on_user_data",
            )


@pytest.mark.promise("advertisement.excluded_sources", "advertisement.no_user_content_for_ads")
def test_ads_never_read_cloud_or_pay_data() -> None:
    switches = dict.fromkeys(COMPILED.defaults, True)
    for service in ("cloud", "pay"):
        for row in COMPILED.rows_for(service):
            d = decide_use(COMPILED, row=row, purpose=Purpose.ADVERTISING, switches=switches)
            assert (d.allowed, d.reason) == (False, Reason.SOURCE_REFUSED)
            assert d.rule in {
                "advertisement.excluded_sources",
                "advertisement.no_user_content_for_ads",
            }
    ads = next(iter(COMPILED.rows_for("advertisement")))
    assert decide_use(COMPILED, row=ads, purpose=Purpose.ADVERTISING, switches=switches).allowed


@pytest.mark.promise("video.personalized_trending_markets")
def test_market_rules_hold_on_reads_in_the_subjects_market() -> None:
    switches = dict.fromkeys(COMPILED.defaults, True)
    row = COMPILED.row(
        "video", "channel_subscription", Qualifier.IDENTIFIED, Purpose.PERSONALIZATION
    )
    assert row is not None
    here = decide_use(
        COMPILED, row=row, purpose=Purpose.PERSONALIZATION, switches=switches, market="ru"
    )
    there = decide_use(
        COMPILED, row=row, purpose=Purpose.PERSONALIZATION, switches=switches, market="de"
    )
    assert here.allowed
    assert (there.allowed, there.rule) == (False, "video.personalized_trending_markets")


@pytest.mark.promise("themes.market_exclusion")
def test_deployment_markets_switch_a_pending_rule_on() -> None:
    plain = compile_catalog(CATALOG)
    assert "themes.market_exclusion" in plain.rules.pending
    chosen = (
        {"themes.market_exclusion": ("ae", "sa")}
        if "ae" in CATALOG.markets
        else {"themes.market_exclusion": ("in",)}
    )
    market = chosen["themes.market_exclusion"][0]
    configured = compile_catalog(CATALOG, chosen)
    assert "themes.market_exclusion" in configured.rules.compiled
    switches = dict.fromkeys(COMPILED.defaults, True)
    for compiled, refused in ((plain, False), (configured, True)):
        d = decide_collect(
            compiled,
            service="themes",
            data_type="search_history",
            purpose=Purpose.PERSONALIZATION,
            kind=SubjectKind.ACCOUNT,
            market=market,
            switches=switches,
            now=NOW,
        )
        assert d.allowed is not refused
        assert refusing_rules(
            CATALOG,
            "themes",
            "search_history",
            Purpose.PERSONALIZATION,
            market,
            chosen if refused else None,
        ) == ({"themes.market_exclusion"} if refused else set())
