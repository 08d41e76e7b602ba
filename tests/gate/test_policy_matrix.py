"""
Collect is allowed exactly when it should be, for every row of the built-in catalog and every
combination of the switches that govern it; the governing switches themselves are checked
against a hand-written table for a handful of services.
"""

from __future__ import annotations

import itertools

import pytest

from charter.catalog import load_catalog
from charter.policy import CompiledCatalog, Reason, SubjectKind, compile_catalog, decide_collect
from charter.taxonomy import Purpose, Qualifier

CATALOG = load_catalog()
COMPILED = compile_catalog(CATALOG)
NOW = 1_767_225_600_000_000

KIND_FOR = {
    Qualifier.IDENTIFIED: SubjectKind.ACCOUNT,
    Qualifier.PSEUDONYMIZED: SubjectKind.APP_INSTANCE,
}

# Hand-written from the seed's text: which switches must be on for (type, qualifier, purpose).
A, P, AN, AD = (
    Purpose.APP_FUNCTIONALITY,
    Purpose.PERSONALIZATION,
    Purpose.ANALYTICS,
    Purpose.ADVERTISING,
)
IDN, PS = Qualifier.IDENTIFIED, Qualifier.PSEUDONYMIZED
HAND_TABLE: dict[str, dict[tuple[str, Qualifier, Purpose], set[str]]] = {
    "cloud": {
        (t, IDN, A): {"cloud.authorization"}
        for t in ("notes", "photos_videos", "contacts", "wifi_settings")
    },
    "themes": {
        ("search_history", IDN, P): {"themes.authorization", "themes.personalization"},
        ("product_interaction", IDN, P): {"themes.authorization", "themes.personalization"},
        ("product_interaction", PS, AN): {"themes.authorization", "system.user_experience_program"},
        ("advertising_data", IDN, AD): {
            "themes.authorization",
            "themes.ads",
            "system.personalized_ads",
        },
        ("crash_data", PS, AN): {"themes.authorization", "system.user_experience_program"},
        ("resource_download_record", IDN, A): {"themes.authorization"},
    },
    "app_usage_data": {
        ("app_usage_data", IDN, AD): {"system.usage_diagnostics"},
        ("gaid", IDN, AD): {"system.usage_diagnostics"},
    },
    "advertisement": {
        ("advertising_data", IDN, AD): {"system.personalized_ads"},
        ("app_usage_data", IDN, AD): {"system.personalized_ads"},
    },
    "pay": {
        ("card_number", IDN, A): {"pay.authorization"},
        ("transaction_record", IDN, AN): {"pay.authorization"},
    },
    "account": {
        ("email_address", IDN, A): set(),
        ("accelerometer_network", PS, A): set(),
    },
}


def _market_for(service: str, data_type: str | None = None, purpose: Purpose | None = None) -> str:
    """A market where the service (and, given a data type and purpose, every gate rule on
    them) allows collection; the rules themselves are tested in tests/policy."""
    markets = COMPILED.markets_by_service[service]
    excluded = COMPILED.excluded_by_service[service]
    gate = COMPILED.rules.gates.get((service, data_type, purpose)) if purpose else None
    preferred = ("de", "us", "fr", *sorted(CATALOG.markets))
    return next(
        m
        for m in preferred
        if m not in excluded
        and (markets is None or m in markets)
        and (gate is None or m in gate.passes)
    )


def _rule_free(key: tuple[str, str, Qualifier, Purpose]) -> bool:
    gate = COMPILED.rules.gates.get((key[0], key[1], key[3]))
    return gate is None or gate.always is None


@pytest.mark.parametrize("service", sorted(HAND_TABLE))
def test_governing_switches_match_hand_table(service: str) -> None:
    for (data_type, qualifier, purpose), expected in HAND_TABLE[service].items():
        row = COMPILED.row(service, data_type, qualifier, purpose)
        assert row is not None, (service, data_type, qualifier, purpose)
        assert set(row.switches_by_purpose[purpose]) == expected, (service, data_type, purpose)


def _cases(compiled: CompiledCatalog) -> list[tuple[str, str, Qualifier, Purpose]]:
    keys = [k for k in compiled.rows if _rule_free(k)]
    return sorted(keys, key=lambda k: (k[0], k[1], k[2].value, k[3].value))


@pytest.mark.parametrize(("service", "data_type", "qualifier", "purpose"), _cases(COMPILED))
def test_every_switch_combination(
    service: str, data_type: str, qualifier: Qualifier, purpose: Purpose
) -> None:
    row = COMPILED.row(service, data_type, qualifier, purpose)
    assert row is not None
    keys = row.switches_by_purpose[purpose]
    kind = KIND_FOR[qualifier]
    market = _market_for(service, data_type, purpose)
    for combo in itertools.product([False, True], repeat=len(keys)):
        switches = dict(zip(keys, combo, strict=True))
        decision = decide_collect(
            COMPILED,
            service=service,
            data_type=data_type,
            purpose=purpose,
            kind=kind,
            market=market,
            switches=switches,
            now=NOW,
        )
        assert decision.allowed == all(combo), (switches, decision)
        if not decision.allowed:
            assert decision.switch == keys[combo.index(False)]
            assert decision.message
        elif row.retention_days is not None:
            assert decision.expires_at == NOW + row.retention_days * 86_400_000_000
        else:
            assert decision.expires_at is None


def test_undeclared_purpose_is_refused() -> None:
    d = decide_collect(
        COMPILED,
        service="cloud",
        data_type="photos_videos",
        purpose=Purpose.PERSONALIZATION,
        kind=SubjectKind.ACCOUNT,
        market="de",
        switches={"cloud.authorization": True},
        now=NOW,
    )
    assert not d.allowed
    assert d.reason is Reason.UNDECLARED


def test_undeclared_type_is_refused() -> None:
    d = decide_collect(
        COMPILED,
        service="cloud",
        data_type="gaid",
        purpose=Purpose.APP_FUNCTIONALITY,
        kind=SubjectKind.ACCOUNT,
        market="de",
        switches={"cloud.authorization": True},
        now=NOW,
    )
    assert (d.allowed, d.reason) == (False, Reason.UNDECLARED)


def test_pseudonymized_row_needs_a_pseudonymous_subject() -> None:
    d = decide_collect(
        COMPILED,
        service="account",
        data_type="accelerometer_network",
        purpose=Purpose.APP_FUNCTIONALITY,
        kind=SubjectKind.ACCOUNT,
        market="de",
        switches={},
        now=NOW,
    )
    assert (d.allowed, d.reason) == (False, Reason.QUALIFIER_MISMATCH)


def test_market_availability() -> None:
    pay = {"pay.authorization": True}
    assert decide_collect(
        COMPILED,
        service="pay",
        data_type="upi_id",
        purpose=A,
        kind=SubjectKind.ACCOUNT,
        market="in",
        switches=pay,
        now=NOW,
    ).allowed
    d = decide_collect(
        COMPILED,
        service="pay",
        data_type="upi_id",
        purpose=A,
        kind=SubjectKind.ACCOUNT,
        market="de",
        switches=pay,
        now=NOW,
    )
    assert (d.allowed, d.reason) == (False, Reason.MARKET_UNAVAILABLE)
    browser = {"browser.authorization": True}
    d = decide_collect(
        COMPILED,
        service="browser",
        data_type="gaid",
        purpose=P,
        kind=SubjectKind.ACCOUNT,
        market="in",
        switches=browser,
        now=NOW,
    )
    assert d.reason is Reason.MARKET_UNAVAILABLE


def test_on_device_service_refuses_everything() -> None:
    d = decide_collect(
        COMPILED,
        service="ai_technology",
        data_type="face_features",
        purpose=A,
        kind=SubjectKind.ACCOUNT,
        market="de",
        switches={},
        now=NOW,
    )
    assert d.reason is Reason.ON_DEVICE_ONLY


def test_opt_in_defaults() -> None:
    assert COMPILED.defaults["cloud.authorization"] is False
    assert COMPILED.defaults["system.user_experience_program"] is False
    assert COMPILED.defaults["system.personalized_ads"] is True
