"""The ``charter catalog`` commands, driven through Typer's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from charter.cli import app

runner = CliRunner()


def test_validate_builtin() -> None:
    result = runner.invoke(app, ["catalog", "validate"])
    assert result.exit_code == 0, result.output
    assert "12 services" in result.output or "services" in result.output


def test_validate_reports_file_line_column(catalog_copy: Path) -> None:
    path = catalog_copy / "video.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("qualifier: pseudonymized", "qualifier: pseudonymised", 1), encoding="utf-8"
    )
    line = next(
        i
        for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "pseudonymised" in row
    )
    result = runner.invoke(app, ["catalog", "validate", str(catalog_copy)])
    assert result.exit_code == 1
    assert re.search(rf"video\.yaml:{line}:\d+: .*qualifier", result.output)
    assert "did you mean 'pseudonymized'" in result.output
    assert "Traceback" not in result.output


def test_show_json_has_every_field() -> None:
    result = runner.invoke(app, ["catalog", "show", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert len(data["services"]) >= 12
    row = data["services"][0]["inventory"][1]
    assert set(row) == {
        "category",
        "type",
        "qualifier",
        "purposes",
        "transit",
        "at_rest",
        "retention",
        "printed",
    }
    assert {r["id"] for r in data["regions"]["regions"]} >= {
        "eu",
        "india",
        "russia",
        "uk",
        "mainland_china",
        "others",
    }


def test_show_one_service_and_unknown_service() -> None:
    assert runner.invoke(app, ["catalog", "show", "pay"]).exit_code == 0
    result = runner.invoke(app, ["catalog", "show", "nope"])
    assert result.exit_code != 0


def test_render_writes_files(tmp_path: Path) -> None:
    for fmt in ("md", "ropa", "apple"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(
            app, ["catalog", "render", "--format", fmt, "--out", str(out), "--service", "cloud"]
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 100


def test_diff_flags_material_changes(catalog_copy: Path, tmp_path: Path) -> None:
    path = catalog_copy / "themes.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("retention: {days: 90}", "retention: {days: 365}", 1), encoding="utf-8"
    )
    result = runner.invoke(
        app,
        [
            "catalog",
            "diff",
            str(Path(__file__).parents[2] / "src/charter/catalogs/miui12"),
            str(catalog_copy),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    changes = json.loads(result.output)
    assert changes and all(c["service"] == "themes" for c in changes)
    assert any(c["kind"] == "retention_longer" and c["material"] for c in changes)


def test_show_service_lists_function_and_purpose_markets() -> None:
    result = runner.invoke(app, ["catalog", "show", "get_apps"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the console wraps at its width
    assert "markets of function points_mall: only in (promise points_mall_markets)" in text
    assert (
        "Markets of purpose personalization: everywhere the service is, except es "
        "(promise recommendations_market_exclusion)"
    ) in text
    assert "app_security_audit (statement):" in text
    themes = runner.invoke(app, ["catalog", "show", "themes"])
    assert (
        "Markets of the whole service: everywhere the service is, except markets the "
        "deployment names (promise market_exclusion)"
    ) in " ".join(themes.output.split())
