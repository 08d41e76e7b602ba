"""
The promises report: every rule of the built-in catalog is kept, pending or a statement
(never unkept), each kept rule names tests that exist, proofs are read from markers without
running anything, and the composition root refuses a loaded service that lacks an enforcer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from charter.app import Charter
from charter.catalog import Catalog
from charter.catalog.promises import Status, counts, missing_enforcers, promise_report
from charter.catalog.proofs import collect_proofs
from charter.cli import app
from charter.errors import ConfigError
from charter.services import ENFORCERS
from charter.testing import settings_for

TESTS = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _report(catalog: Catalog, **bound: frozenset[str]) -> list:  # type: ignore[type-arg]
    return promise_report(
        catalog,
        proofs=collect_proofs(TESTS),
        bound=bound or ENFORCERS,
        deployment_markets={},
    )


def test_builtin_catalog_has_no_unkept_promise(builtin: Catalog) -> None:
    report = _report(builtin)
    unkept = [(p.id, p.why) for p in report if p.status is Status.UNKEPT]
    assert unkept == []
    found = counts(report)
    assert found[Status.KEPT] >= 10  # every gate rule whose markets the catalog names
    assert found[Status.STATEMENT] == sum(1 for p in report if p.kind.value == "statement")
    assert sum(found.values()) == sum(len(s.rules) for s in builtin)


def test_every_kept_promise_names_tests_that_exist(builtin: Catalog) -> None:
    kept = [p for p in _report(builtin) if p.status is Status.KEPT]
    named = {t for p in kept for t in p.tests}
    assert all(p.tests for p in kept)
    files = sorted({t.split("::", 1)[0] for t in named})
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listing.returncode == 0, listing.stdout[-2000:] + listing.stderr[-2000:]
    collected = {re.sub(r"\[.*\]$", "", line.strip()) for line in listing.stdout.splitlines()}
    for test in named:
        assert test in collected, test


def test_proofs_are_read_from_markers_without_running(tmp_path: Path) -> None:
    tests = tmp_path / "tests" / "svc"
    tests.mkdir(parents=True)
    (tests / "test_a.py").write_text(
        "import pytest\n"
        "pytestmark = [pytest.mark.promise('m.one')]\n"
        "raise SystemExit('never imported')\n"
        "@pytest.mark.promise('s.two', 's.three')\n"
        "def test_x(): ...\n"
        "@pytest.mark.promise('s.four')\n"
        "class TestY:\n"
        "    @pytest.mark.promise('s.five')\n"
        "    def test_z(self): ...\n"
        "def helper(): ...\n",
        encoding="utf-8",
    )
    proofs = collect_proofs(tmp_path / "tests")
    assert proofs == {
        "m.one": ("tests/svc/test_a.py::test_x", "tests/svc/test_a.py::TestY::test_z"),
        "s.five": ("tests/svc/test_a.py::TestY::test_z",),
        "s.four": ("tests/svc/test_a.py::TestY::test_z",),
        "s.three": ("tests/svc/test_a.py::test_x",),
        "s.two": ("tests/svc/test_a.py::test_x",),
    }


def test_statuses_follow_enforcers_and_tests(builtin: Catalog) -> None:
    pay_rules = {r.enforcer for r in builtin.service("pay").rules if r.enforcer}
    unproved = {k: v for k, v in collect_proofs(TESTS).items() if not k.startswith("pay.")}
    found = promise_report(
        builtin, proofs=unproved, bound={"pay": frozenset(pay_rules)}, deployment_markets={}
    )
    report = {p.id: p for p in found}
    # a loaded service with its enforcers but no test proving them: unkept, and says why
    assert report["pay.unbind"].status is Status.UNKEPT
    assert report["pay.unbind"].why == "no test proves it"
    report = {p.id: p for p in _report(builtin, pay=frozenset())}
    assert report["pay.unbind"].status is Status.UNKEPT
    assert "registers no such enforcer" in report["pay.unbind"].why
    without_pay = {k: v for k, v in ENFORCERS.items() if k != "pay"}
    report = {p.id: p for p in _report(builtin, **without_pay)}
    assert report["pay.unbind"].status is Status.PENDING  # a service not built (loaded)
    assert {p.id: p for p in _report(builtin)}["pay.unbind"].status is Status.KEPT
    assert report["cloud.trash_retention"].status is Status.KEPT  # cloud is, with a test
    assert report["account.oauth_union_id"].status is Status.KEPT
    assert report["get_apps.app_security_audit"].status is Status.STATEMENT
    assert report["browser.no_url_collection"].status is Status.PENDING
    assert report["browser.no_url_collection"].why == (
        "the device agent (charter.device) registers no enforcer for it (browser.no_url_collection)"
    )
    assert report["get_apps.points_mall_markets"].status is Status.KEPT
    assert report["themes.market_exclusion"].status is Status.PENDING


def test_startup_fails_when_a_loaded_service_lacks_an_enforcer(
    builtin: Catalog, tmp_path: Path
) -> None:
    assert missing_enforcers(builtin, ENFORCERS) == []
    Charter.init(tmp_path / "data")
    with pytest.raises(ConfigError) as info:
        Charter.open(
            settings_for(tmp_path / "data"),
            enforcers={**ENFORCERS, "cloud": frozenset({"cloud.trash_window"})},
        )
    assert "cloud.delete_on_sync_off" in str(info.value)
    assert "cloud.trash_retention" not in str(info.value)


def test_deployment_markets_are_checked_at_startup(tmp_path: Path) -> None:
    Charter.init(tmp_path / "data")
    for bad, words in (
        ({"themes.favorites_require_login": ("de",)}, "takes no markets from the deployment"),
        ({"themes.market_exclusion": ("zz",)}, "zz not in the catalog's markets"),
    ):
        settings = settings_for(tmp_path / "data")
        settings = type(settings)(data_dir=settings.data_dir, rule_markets=bad)
        with pytest.raises(ConfigError) as info:
            Charter.open(settings)
        assert words in str(info.value)


def test_cli_promises_json_and_validate_counts() -> None:
    result = runner.invoke(app, ["catalog", "promises", "--json", "--tests", str(TESTS)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    by_id = {p["id"]: p for p in body["promises"]}
    points = by_id["get_apps.points_mall_markets"]
    assert (points["kind"], points["status"], points["enforcer"]) == ("gate", "kept", "gate.policy")
    assert points["tests"]
    assert by_id["cloud.trash_retention"]["enforcer"] == "cloud.trash_window"
    assert body["counts"]["unkept"] == 0
    checked = runner.invoke(app, ["catalog", "promises", "--check", "--tests", str(TESTS)])
    assert checked.exit_code == 0, checked.output
    empty = runner.invoke(app, ["catalog", "promises", "--check", "--tests", "/nonexistent"])
    assert empty.exit_code == 1
    assert "unkept: get_apps.points_mall_markets: no test proves it" in empty.output
    validated = runner.invoke(app, ["catalog", "validate"])
    assert validated.exit_code == 0
    last = validated.output.strip().splitlines()[-1]
    assert re.fullmatch(r"promises: \d+ kept, \d+ pending, \d+ statement", last), last


def test_rendered_paper_marks_every_promise_and_never_names_its_sources(builtin: Catalog) -> None:
    from charter.catalog.render import render_catalog  # noqa: PLC0415 - the renderers are heavy

    md = render_catalog(builtin, "md").decode()
    marked = re.findall(
        r"^- `([a-z0-9_]+)`: (Kept by code|Not yet kept by code|Statement)\. ", md, re.M
    )
    assert len(marked) == sum(len(s.rules) for s in builtin)
    assert ("points_mall_markets", "Kept by code") in marked
    assert ("app_security_audit", "Statement") in marked
    assert ("trash_retention", "Not yet kept by code") in marked  # no enforcers given
    html = render_catalog(builtin, "html").decode()
    assert html.count("Kept by code. ") == sum(1 for _i, m in marked if m == "Kept by code")
    for text in (md, html):
        assert "seed" not in text.lower()


def test_store_answers_and_fideslang_carry_the_rules(catalog_copy: Path) -> None:
    from charter.catalog import load_catalog  # noqa: PLC0415
    from charter.catalog.render import render_catalog  # noqa: PLC0415

    path = catalog_copy / "cloud.yaml"
    text = path.read_text(encoding="utf-8")
    row = "type: notes, qualifier: identified, purposes: [app_functionality]"
    assert row in text
    path.write_text(text.replace(row, row.replace("]", ", advertising]")), encoding="utf-8")
    catalog = load_catalog(catalog_copy)
    apple = json.loads(render_catalog(catalog, "apple", service="cloud"))
    google = json.loads(render_catalog(catalog, "datasafety", service="cloud"))
    fides = render_catalog(catalog, "fideslang").decode()
    # ads never read cloud data (advertisement.excluded_sources): no answer claims that use
    assert "advertising" not in json.dumps(apple).lower()
    assert "Advertising or marketing" not in json.dumps(google)
    assert "Xiaomi Cloud: Advertising" not in fides
    assert "promise: get_apps.points_mall_markets" in fides
    assert "concerns: function points_mall" in fides
