"""
The privacy budget is a deployment setting: ``CHARTER_USAGE_EPSILON_PER_QUERY`` and
``CHARTER_USAGE_LIFETIME_EPSILON`` default to the catalog's values, may only tighten them
(a looser value is refused with a clear error and nothing starts), are what the release code
and the ledger use, and are what the rendered paper states.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from charter.app import Charter
from charter.catalog import load_catalog
from charter.catalog.render import render_catalog
from charter.cli import app
from charter.config import Settings
from charter.errors import ConfigError
from charter.services.usage import UsageParams, tighten_budget
from charter.testing import FakeClock
from support.telemetry import event, person

runner = CliRunner()
CATALOG = load_catalog()
DECLARED = UsageParams.from_catalog(CATALOG)


def test_defaults_are_the_catalogs_values() -> None:
    settings = Settings.from_env({})
    assert (settings.usage_epsilon_per_query, settings.usage_lifetime_epsilon) == (None, None)
    assert tighten_budget(CATALOG) is CATALOG
    assert (DECLARED.epsilon_per_query, DECLARED.lifetime_epsilon) == (0.5, 4.0)


@pytest.mark.parametrize("bad", ["x", "0", "-1", "inf", "nan", "1e999", "0,5"])
@pytest.mark.parametrize(
    "name", ["CHARTER_USAGE_EPSILON_PER_QUERY", "CHARTER_USAGE_LIFETIME_EPSILON"]
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, bad: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be a positive number"):
        Settings.from_env({name: bad})


@given(
    per_query=st.floats(min_value=1e-6, max_value=DECLARED.epsilon_per_query),
    lifetime=st.floats(min_value=DECLARED.epsilon_per_query, max_value=DECLARED.lifetime_epsilon),
)
def test_any_tightening_is_in_force(per_query: float, lifetime: float) -> None:
    params = UsageParams.from_catalog(
        tighten_budget(CATALOG, epsilon_per_query=per_query, lifetime_epsilon=lifetime)
    )
    assert (params.epsilon_per_query, params.lifetime_epsilon) == (per_query, lifetime)
    assert params.k_threshold == DECLARED.k_threshold  # the rest untouched


@given(
    over=st.floats(min_value=1.0000001, max_value=1e6),
    which=st.sampled_from(["epsilon_per_query", "lifetime_epsilon"]),
)
def test_any_loosening_is_refused(over: float, which: str) -> None:
    declared = getattr(DECLARED, which)
    with pytest.raises(ConfigError, match="may only tighten") as info:
        tighten_budget(CATALOG, **{which: declared * over})
    assert which in str(info.value)


def test_per_query_above_the_lifetime_cap_is_refused() -> None:
    with pytest.raises(ConfigError, match="above the lifetime cap"):
        tighten_budget(CATALOG, epsilon_per_query=0.5, lifetime_epsilon=0.25)


@pytest.mark.promise("app_usage_data.aggregated_analysis")
def test_the_settings_are_used_by_releases_the_ledger_and_the_paper(
    tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    settings = Settings.from_env(
        {"CHARTER_USAGE_EPSILON_PER_QUERY": "0.25", "CHARTER_USAGE_LIFETIME_EPSILON": "0.75"},
        data_dir=data_dir,
    )
    charter = Charter.open(settings, clock=clock)
    try:
        subject = person(charter)
        charter.usage.events.submit(subject, "p", [event("usage_sequence")], actor="test")
        used = [charter.usage.analytics.release_app_usage(actor="t").used for _ in range(4)]
        assert used == [1, 1, 1, 0]  # three releases of 0.25 fit a cap of 0.75; not a fourth
        (spent,) = charter.usage.analytics.spent(subject)
        assert (spent.spent, spent.cap, spent.releases) == (0.75, 0.75, 3)
        assert all(r["epsilon"] == 0.25 for r in charter.usage.analytics.third_party_view())
        paper = render_catalog(charter.catalog, "md").decode()
        assert "epsilon_per_query: 0.25" in paper and "lifetime_epsilon: 0.75" in paper
        assert "epsilon_per_query: 0.5" not in paper
    finally:
        charter.close()
    loose = dataclasses.replace(settings, usage_lifetime_epsilon=5.0)
    with pytest.raises(ConfigError, match="CHARTER_USAGE_LIFETIME_EPSILON=5 would loosen"):
        Charter.open(loose, clock=clock)


def test_the_rendered_paper_states_the_values_in_force(tmp_path: Path) -> None:
    out = tmp_path / "paper.md"
    env = {"CHARTER_USAGE_EPSILON_PER_QUERY": "0.1", "CHARTER_USAGE_LIFETIME_EPSILON": "1"}
    done = runner.invoke(app, ["catalog", "render", "-f", "md", "-o", str(out)], env=env)
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    assert "epsilon_per_query: 0.1;" in text and "lifetime_epsilon: 1.0;" in text
    plain = runner.invoke(app, ["catalog", "render", "-f", "md", "-o", str(out)], env={})
    assert plain.exit_code == 0
    assert "epsilon_per_query: 0.5;" in out.read_text(encoding="utf-8")
    bad = tmp_path / "bad.md"
    env["CHARTER_USAGE_LIFETIME_EPSILON"] = "16"  # Apple's daily budget: looser than promised
    refused = runner.invoke(app, ["catalog", "render", "-f", "md", "-o", str(bad)], env=env)
    assert refused.exit_code == 2
    assert "may only tighten" in " ".join(refused.output.split()) and not bad.exists()
