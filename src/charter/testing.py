"""
Public helpers for testing code that uses Charter, and a pytest plugin.

- :class:`FakeClock`: a clock you move by hand; pass it to :meth:`Charter.open`.
- :func:`open_test_charter`: a fresh deployment in a folder, on SQLite files or on the
  PostgreSQL databases you name.
- The plugin (``pytest_plugins = ["charter.testing"]``) gives the fixtures ``clock``,
  ``backend`` (``sqlite``, and ``postgres`` when ``CHARTER_TEST_POSTGRES_URL`` is set),
  ``pg_databases`` (one database per region and a control database per xdist worker) and
  ``charter`` (a deployment on that backend, tables emptied between tests on PostgreSQL).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.app import Charter
from charter.catalog import load_catalog
from charter.config import Settings
from charter.store.registry import metadata

START = 1_767_225_600_000_000
"""2026-01-01T00:00:00Z in microseconds since the epoch."""

DAY = 86_400_000_000
"""One day in microseconds."""

PG_ENV = "CHARTER_TEST_POSTGRES_URL"
"""The environment variable naming a PostgreSQL server for the ``postgres`` backend."""


@dataclass
class FakeClock:
    """A clock tests move by hand (microseconds since the epoch); pass it to Charter.open."""

    now: int = START

    def __call__(self) -> int:
        return self.now

    def advance(self, *, days: float = 0, seconds: float = 0, micros: int = 0) -> None:
        """Move the clock forward."""
        self.now += int(days * DAY) + int(seconds * 1_000_000) + micros


def settings_for(data_dir: Path, databases: Mapping[str, str] | None = None) -> Settings:
    """Settings for ``data_dir``; with ``databases`` (``control`` and region names to URLs),
    those databases instead of SQLite files."""
    if not databases:
        return Settings(data_dir=data_dir)
    regions = {k: v for k, v in databases.items() if k != "control"}
    return Settings(data_dir=data_dir, control_url=databases["control"], region_urls=regions)


def open_test_charter(
    data_dir: Path, databases: Mapping[str, str] | None = None, **options: Any
) -> Charter:
    """A new deployment in ``data_dir`` (a keyring is made there); ``options`` go to
    :meth:`Charter.open` (``clock``, ``sender``, ``password_profile``, ...)."""
    Charter.init(data_dir)
    return Charter.open(settings_for(data_dir, databases), **options)


def empty_tables(charter: Charter) -> None:
    """Delete every row of every registered table in every database of a PostgreSQL
    deployment (between tests sharing databases)."""
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    engines = [charter.stores.control()] + [
        charter.stores.region(r) for r in charter.catalog.regions
    ]
    for engine in engines:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# -- pytest plugin ---------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2026-01-01."""
    return FakeClock()


@pytest.fixture(scope="session")
def pg_databases(worker_id: str) -> Iterator[dict[str, str]]:
    """One PostgreSQL database per region plus a control database for this xdist worker,
    dropped at the end; empty when no server is configured."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield {}
        return
    base = make_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    prefix = f"charter_t_{worker_id}_{secrets.token_hex(3)}"
    urls: dict[str, str] = {}
    with admin.connect() as conn:
        for name in ("control", *load_catalog().regions):
            database = f"{prefix}_{name}"
            conn.execute(text(f'CREATE DATABASE "{database}"'))
            urls[name] = base.set(database=database).render_as_string(hide_password=False)
    yield urls
    with admin.connect() as conn:
        for found in urls.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(found).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, pg_databases: dict[str, str]) -> str:
    """``sqlite`` always; ``postgres`` too when ``CHARTER_TEST_POSTGRES_URL`` is set."""
    if request.param == "postgres" and not pg_databases:
        pytest.skip(f"{PG_ENV} is not set")
    return str(request.param)


@pytest.fixture
def charter(
    backend: str, tmp_path: Path, clock: FakeClock, pg_databases: dict[str, str]
) -> Iterator[Charter]:
    """A deployment on the backend, on the fake clock."""
    databases = pg_databases if backend == "postgres" else None
    deployment = open_test_charter(tmp_path / "data", databases, clock=clock)
    if databases:
        empty_tables(deployment)
    yield deployment
    deployment.close()
