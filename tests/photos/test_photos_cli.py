"""``charter photo`` CLI, driven through Typer's CliRunner on the sub-app."""

from __future__ import annotations

from pathlib import Path

import pytest
from photo_corpus import CANARY, build_corpus
from typer.testing import CliRunner

from charter.cli.photos import app

SAMPLES = build_corpus()
runner = CliRunner()


def _write(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for sample in SAMPLES[:count]:
        path = tmp_path / sample.name
        path.write_bytes(sample.data)
        paths.append(path)
    return paths


def test_strip_to_out_dir(tmp_path: Path) -> None:
    files = _write(tmp_path, 3)
    result = runner.invoke(app, ["strip", *map(str, files), "--out", str(tmp_path / "shared")])
    assert result.exit_code == 0, result.output
    for path in files:
        out = (tmp_path / "shared" / path.name).read_bytes()
        assert CANARY not in out
        assert CANARY in path.read_bytes()
    assert "gps=6" in result.output and "CANARY" not in result.output


def test_strip_in_place_with_jobs(tmp_path: Path) -> None:
    files = _write(tmp_path, 4)
    result = runner.invoke(app, ["strip", *map(str, files), "--in-place", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert all(CANARY not in p.read_bytes() for p in files)


def test_keep_location_free_exif(tmp_path: Path) -> None:
    (path,) = _write(tmp_path, 1)
    result = runner.invoke(app, ["strip", str(path), "--in-place", "--keep-location-free-exif"])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert b"CANARY-Make" in data and b"CANARY-GPS-METHOD" not in data


def test_keep_location_only(tmp_path: Path) -> None:
    (path,) = _write(tmp_path, 1)
    result = runner.invoke(app, ["strip", str(path), "--in-place", "--keep-location-only"])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert b"CANARY-GPS-METHOD" in data and b"CANARY-Make" not in data
    both = runner.invoke(
        app, ["strip", str(path), "--in-place", "--keep-location-only", "--keep-location-free-exif"]
    )
    assert both.exit_code != 0 and "choose one" in both.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "empty"), (b"not an image", "not a JPEG"), (SAMPLES[0].data[:300], "cut short")],
)
def test_bad_input_one_line_error(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    result = runner.invoke(app, ["strip", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: broken.jpg: ") and needle in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "broken.jpg").exists()
    assert list((tmp_path / "o").iterdir()) == []


def test_batch_continues_after_bad_file(tmp_path: Path) -> None:
    files = _write(tmp_path, 2)
    bad = tmp_path / "zero.png"
    bad.write_bytes(b"")
    result = runner.invoke(
        app, ["strip", str(files[0]), str(bad), str(files[1]), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(p.name for p in files)


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["strip", str(tmp_path / "nope.jpg"), "--in-place"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    result = runner.invoke(app, ["strip", str(tmp_path / "nope.jpg")])
    assert result.exit_code == 2 and "--out" in result.output
    files = _write(tmp_path, 1)
    result = runner.invoke(app, ["strip", str(files[0]), "--out", str(tmp_path)])
    assert result.exit_code == 2


def test_inspect(tmp_path: Path) -> None:
    (path,) = _write(tmp_path, 1)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0
    assert "gps: 6" in result.output and "CANARY" not in result.output
    result = runner.invoke(app, ["inspect", str(path), "--show-values"])
    assert result.exit_code == 0 and "CANARY-Make" in result.output
    bad = tmp_path / "bad.heic"
    bad.write_bytes(b"\x00\x00\x00\x18ftypheic")
    result = runner.invoke(app, ["inspect", str(bad)])
    assert result.exit_code == 1 and result.output.startswith("error: bad.heic:")
