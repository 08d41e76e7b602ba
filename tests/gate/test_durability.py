"""T22 guards: the durability settings Charter requires are asserted at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from charter.app import Charter
from charter.errors import ConfigError
from charter.store.engines import check_durability, make_engine


def test_sqlite_connections_have_the_required_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'x.db'}")
    found = check_durability(engine)
    assert found == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1}


def test_unsafe_sqlite_engine_is_refused(tmp_path: Path) -> None:
    plain = create_engine(f"sqlite+pysqlite:///{tmp_path / 'y.db'}")
    with pytest.raises(ConfigError, match="journal_mode"):
        check_durability(plain)


def test_postgres_settings_are_checked(charter: Charter, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    found = check_durability(charter.stores.region("eu"))
    assert {k: str(v).lower() for k, v in found.items()} == {
        "fsync": "on",
        "full_page_writes": "on",
        "synchronous_commit": "on",
    }


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ConfigError):
        make_engine("mysql://nobody@localhost/x")
    with pytest.raises(ConfigError):
        make_engine("::not a url::")
