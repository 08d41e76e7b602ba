"""The built-in reference catalog loads and says what the reference paper says."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.catalog import Catalog
from charter.taxonomy import AtRest, Purpose, RetentionKind

EXPECTED = Path(__file__).parent / "expected_tables"
SERVICES = (
    "cloud",
    "account",
    "find_device",
    "themes",
    "app_vault",
    "get_apps",
    "browser",
    "video",
    "pay",
    "app_usage_data",
    "advertisement",
    "ai_technology",
)


def test_twelve_services_in_seed_order(builtin: Catalog) -> None:
    assert tuple(builtin.services)[: len(SERVICES)] == SERVICES


@pytest.mark.parametrize("service_id", [s for s in SERVICES if s != "ai_technology"])
def test_row_count_matches_transcribed_table(builtin: Catalog, service_id: str) -> None:
    lines = (EXPECTED / f"{service_id}.tsv").read_text(encoding="utf-8").splitlines()
    assert len(builtin.service(service_id).inventory) == len(lines) - 1


def test_ai_technology_is_on_device_only(builtin: Catalog) -> None:
    ai = builtin.service("ai_technology")
    assert ai.on_device_only
    assert ai.inventory == ()
    assert all(f.on_device_only for f in ai.functions)


def test_weak_algorithms_map_to_strong_protection(builtin: Catalog) -> None:
    seen = set()
    for service in builtin:
        for row in service.inventory:
            if row.declared_at_rest is not None:
                seen.add(row.declared_at_rest.label)
                assert row.protection in (
                    AtRest.FIELD_ENCRYPTION,
                    AtRest.KEYED_HASH,
                    AtRest.PASSWORD_HASH,
                )
    assert {"AES-128", "MD5", "SHA-1"} <= seen


def test_not_stored_rows_have_no_retention(builtin: Catalog) -> None:
    account = builtin.service("account")
    not_stored = [r for r in account.inventory if r.protection is AtRest.NOT_STORED]
    assert {r.type for r in not_stored} == {"product_interaction", "accelerometer_network"}
    assert all(r.retention.kind is RetentionKind.NOT_STORED for r in not_stored)


def test_markets_and_regions(builtin: Catalog) -> None:
    assert builtin.service("pay").markets.available == ("in",)
    assert set(builtin.service("get_apps").markets.available) == {"in", "ru", "es", "id"}
    assert builtin.region_of("de").name == "European Union"
    assert builtin.region_of("in").id == "india"
    assert builtin.region_of("us").id == "others"
    locations = {loc for site in builtin.regions["eu"].storage for loc in site.locations}
    assert locations == {"Germany", "United States", "Singapore"}


def test_advertising_never_declared_on_cloud_or_pay_data(builtin: Catalog) -> None:
    for service_id in ("cloud", "pay"):
        for row in builtin.service(service_id).inventory:
            assert Purpose.ADVERTISING not in row.purposes


def test_analytics_rows_are_governed_by_the_experience_program(builtin: Catalog) -> None:
    for service in builtin:
        if any(Purpose.ANALYTICS in r.purposes for r in service.inventory) and service.id not in (
            "pay",
            "app_usage_data",
        ):
            assert "user_experience_program" in service.controls.system_switches, service.id
