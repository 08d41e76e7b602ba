"""``charter usage ...`` and ``charter ads segments``, through Typer's CliRunner against a
real data directory: a DP release, the ledger as aggregates (never a person), the essential
counters, segment definitions, and clear errors that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from charter.app import Charter
from charter.cli import app
from charter.config import Settings
from charter.services.ads import segments as seg
from charter.services.usage.apps import SYSTEM_APPS
from support.telemetry import event, person

runner = CliRunner()
PEOPLE = 30


@pytest.fixture
def data_dir(tmp_path: Path) -> tuple[Path, list[str]]:
    """A deployment with people who sent usage events and essential telemetry."""
    d = tmp_path / "data"
    Charter.init(d)
    charter = Charter.open(Settings(data_dir=d))
    try:
        people = [person(charter) for _ in range(PEOPLE)]
        for n, s in enumerate(people):
            events = [event("usage_sequence"), event("essential")]
            charter.usage.events.submit(s, f"phone-{n}", events, actor="test")
        off = person(charter, uep=False)  # the User Experience Program off: never read
        charter.usage.events.submit(off, "phone-off", [event("usage_sequence")], actor="test")
    finally:
        charter.close()
    return d, [*people, off]


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = runner.invoke(app, list(args), env=env or {})
    return done.exit_code, done.output


def _json(*args: str, env: dict[str, str] | None = None) -> object:
    code, out = _run(*args, "--json", env=env)
    assert code == 0, out
    return json.loads(out)


def test_release_budgets_and_essential_counters(data_dir: tuple[Path, list[str]]) -> None:
    d, people = data_dir
    out = _json("usage", "release", "-d", str(d))
    assert isinstance(out, dict)
    assert (out["people_used"], out["people_over_budget"], out["people_refused"]) == (
        PEOPLE,
        0,
        1,
    )
    assert out["epsilon"] == 0.5 and out["k"] == 20 and out["confidence"] == pytest.approx(0.95)
    counts = out["counts"]
    assert list(counts) == list(SYSTEM_APPS)
    assert all(c is None or c >= 20 for c in counts.values())  # below k: suppressed
    budgets = _json("usage", "budgets", "-d", str(d))
    assert budgets == {
        "epsilon_per_query": 0.5,
        "lifetime_epsilon": 4.0,
        "k_threshold": 20,
        "purposes": [
            {
                "purpose": "analytics",
                "people": PEOPLE,
                "spent": 0.5 * PEOPLE,
                "mean": 0.5,
                "max": 0.5,
                "exhausted": 0,
                "cap": 4.0,
            }
        ],
    }
    essential = _json("usage", "essential", "-d", str(d))
    assert isinstance(essential, list) and len(essential) == 1
    assert essential[0]["count"] == PEOPLE and essential[0]["purpose"] == "system_updates"
    assert set(essential[0]) == {
        "day", "purpose", "system_version", "device_model", "status", "count"
    }  # fmt: skip
    for args in (("release",), ("budgets",), ("essential",)):
        code, text = _run("usage", *args, "-d", str(d))
        assert code == 0, text
        assert not any(p in text for p in people)  # aggregates only, never a person
    code, text = _run("usage", "budgets", "-d", str(d))
    assert "lifetime cap 4" in text and "analytics" in text


def test_a_tightened_cap_is_in_force_from_the_environment(
    data_dir: tuple[Path, list[str]],
) -> None:
    d, _people = data_dir
    env = {"CHARTER_USAGE_LIFETIME_EPSILON": "0.5"}  # one release per person, ever
    first = _json("usage", "release", "-d", str(d), env=env)
    second = _json("usage", "release", "-d", str(d), env=env)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert (first["people_used"], second["people_used"]) == (PEOPLE, 0)
    assert second["people_over_budget"] == PEOPLE
    budgets = _json("usage", "budgets", "-d", str(d), env=env)
    assert isinstance(budgets, dict)
    assert budgets["lifetime_epsilon"] == 0.5
    assert budgets["purposes"][0]["exhausted"] == PEOPLE


def test_errors_are_clear_and_change_nothing(
    data_dir: tuple[Path, list[str]], tmp_path: Path
) -> None:
    d, _people = data_dir
    code, text = _run("usage", "release", "-d", str(tmp_path / "nowhere"))
    assert code == 1 and "charter init" in text and "Traceback" not in text
    code, text = _run(
        "usage", "release", "-d", str(d), env={"CHARTER_USAGE_EPSILON_PER_QUERY": "2"}
    )
    assert code == 1 and "may only tighten" in " ".join(text.split())
    code, text = _run(
        "usage", "budgets", "-d", str(d), env={"CHARTER_USAGE_EPSILON_PER_QUERY": "lots"}
    )
    assert code == 1 and "must be a positive number" in " ".join(text.split())
    budgets = _json("usage", "budgets", "-d", str(d))
    assert isinstance(budgets, dict) and budgets["purposes"] == []  # nothing was spent


def test_ads_segments_lists_the_definitions(data_dir: tuple[Path, list[str]]) -> None:
    d, _people = data_dir
    out = _json("ads", "segments", "-d", str(d))
    assert isinstance(out, dict)
    assert out["sources"] == ["advertising_data", "app_usage_data"]
    assert out["min_signals"] == seg.MIN_SIGNALS
    by = {s["segment"]: s for s in out["segments"]}
    assert set(by) == set(seg.ADS)
    assert by["games"]["package_fragments"] == ["game", "glgm"]
    code, text = _run("ads", "segments", "-d", str(d))
    assert code == 0 and "app_usage_data" in text and "ad_general_1" in text
