"""
Markets a deployment names for a catalog rule (``CHARTER_RULE_MARKETS``): parsed and checked
at start-up, enforced by the gate once set, and reported kept only then.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from charter.app import Charter
from charter.catalog.promises import Status, promise_report
from charter.config import Settings, parse_rule_markets
from charter.errors import ConfigError
from charter.gate import Event
from charter.policy import SubjectKind
from charter.taxonomy import Purpose


def test_rule_markets_are_parsed_from_the_environment() -> None:
    settings = Settings.from_env({"CHARTER_RULE_MARKETS": " themes.market_exclusion = AE, sa ;"})
    assert settings.rule_markets == {"themes.market_exclusion": ("ae", "sa")}
    assert parse_rule_markets("") == {}
    for bad in ("themes.market_exclusion", "market_exclusion=ae", "themes.market_exclusion="):
        with pytest.raises(ConfigError) as info:
            parse_rule_markets(bad)
        assert "themes.market_exclusion=ae,sa" in str(info.value)  # says how to write it


@pytest.mark.promise("themes.market_exclusion")
def test_the_gate_keeps_a_rule_once_the_deployment_names_its_markets(charter: Charter) -> None:
    chosen = {"themes.market_exclusion": ("ae", "sa")}
    report = {
        p.id: p
        for p in promise_report(
            charter.catalog,
            proofs={"themes.market_exclusion": ("t",)},
            bound={},
            deployment_markets={},
        )
    }
    assert report["themes.market_exclusion"].status is Status.PENDING
    configured = Charter.open(
        dataclasses.replace(charter.settings, rule_markets=chosen),
        clock=charter.clock,
        keyring=charter.keyring,
    )
    try:
        gate = configured.gate
        outcomes = {}
        for market in ("ae", "sa", "de"):
            subject = gate.create_subject(SubjectKind.ACCOUNT, market)
            gate.set_switches(
                subject.id,
                {"themes.authorization": True, "themes.personalization": True},
                source="user",
                actor="subject",
            )
            item = gate.collect(
                [Event(subject.id, "themes", "search_history", Purpose.PERSONALIZATION, "q")],
                actor="service:themes",
            ).items[0]
            outcomes[market] = (item.accepted, item.reason)
            if not item.accepted:
                assert item.message.endswith("(promise themes.market_exclusion)")
        assert outcomes == {
            "ae": (False, "market_unavailable"),
            "sa": (False, "market_unavailable"),
            "de": (True, "stored"),
        }
        report = {
            p.id: p
            for p in promise_report(
                configured.catalog,
                proofs={"themes.market_exclusion": ("t",)},
                bound={},
                deployment_markets=configured.settings.rule_markets,
            )
        }
        assert report["themes.market_exclusion"].status is Status.KEPT
    finally:
        configured.close()


def test_the_promises_command_says_what_to_set_and_checks_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from charter.cli import app  # noqa: PLC0415

    runner = CliRunner()

    def status(result: object) -> tuple[str, str]:
        found = {p["id"]: p for p in json.loads(result.stdout)["promises"]}  # type: ignore[attr-defined]
        return found["themes.market_exclusion"]["status"], found["themes.market_exclusion"]["why"]

    monkeypatch.delenv("CHARTER_RULE_MARKETS", raising=False)
    unset = runner.invoke(app, ["catalog", "promises", "--json", "--tests", "tests"])
    assert unset.exit_code == 0, unset.output
    state, why = status(unset)
    assert state == "pending"
    assert 'CHARTER_RULE_MARKETS="themes.market_exclusion=<market>,<market>"' in why
    table = runner.invoke(app, ["catalog", "promises", "--tests", "tests"])
    assert "pending: themes.market_exclusion: " in table.stdout

    monkeypatch.setenv("CHARTER_RULE_MARKETS", "themes.market_exclusion=ae,sa")
    kept = runner.invoke(app, ["catalog", "promises", "--json", "--tests", "tests"])
    assert kept.exit_code == 0, kept.output
    assert status(kept)[0] == "kept"

    monkeypatch.setenv("CHARTER_RULE_MARKETS", "themes.market_exclusion=zz")
    bad = runner.invoke(app, ["catalog", "promises", "--json", "--tests", "tests"])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, ConfigError)
    assert "zz not in the catalog's markets" in bad.exception.message
