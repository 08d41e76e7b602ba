"""
``charter serve --workers N`` (issue 14): several server processes only where every database
is PostgreSQL. SQLite lets one writer in at a time, so more than one worker on it is refused
with a message naming the SQLite databases and what to set, before anything is created.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from charter.catalog import load_catalog
from charter.cli import app as charter_cli
from charter.cli.server import check_workers
from charter.config import Settings
from charter.errors import ConfigError

REGIONS = tuple(sorted(load_catalog().regions))
PG = "postgresql+psycopg://charter@db.example/"


def _all_postgres(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        control_url=PG + "control",
        region_urls={region: PG + region for region in REGIONS},
    )


def test_several_workers_on_sqlite_are_refused_and_nothing_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(
        charter_cli, ["serve", "--data-dir", str(data_dir), "--workers", "2"], env={}
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)  # charter's main prints it, no traceback
    message = str(result.exception)
    assert "--workers 2 needs every database on PostgreSQL" in message
    assert "control" in message and "CHARTER_DATABASE_URL_<REGION>" in message
    assert not data_dir.exists()  # refused before init


def test_every_database_on_postgres_allows_workers(tmp_path: Path) -> None:
    check_workers(_all_postgres(tmp_path), REGIONS, 4)  # no error


@given(sqlite_region=st.sampled_from(("control", *REGIONS)), workers=st.integers(2, 64))
def test_one_sqlite_database_is_enough_to_refuse(
    tmp_path_factory: pytest.TempPathFactory, sqlite_region: str, workers: int
) -> None:
    settings = _all_postgres(tmp_path_factory.mktemp("d"))
    if sqlite_region == "control":
        settings = Settings(
            data_dir=settings.data_dir, control_url=None, region_urls=settings.region_urls
        )
    else:
        settings = Settings(
            data_dir=settings.data_dir,
            control_url=settings.control_url,
            region_urls={r: u for r, u in settings.region_urls.items() if r != sqlite_region},
        )
    with pytest.raises(ConfigError) as refused:
        check_workers(settings, REGIONS, workers)
    assert sqlite_region in str(refused.value)


def test_one_worker_is_always_allowed(tmp_path: Path) -> None:
    check_workers(Settings(data_dir=tmp_path), REGIONS, 1)
