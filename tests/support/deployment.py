"""
Fixtures shared by the gate and rights tests: a Charter deployment on real SQLite files, and on real PostgreSQL
databases when CHARTER_TEST_POSTGRES_URL is set (one database per region per xdist worker,
tables truncated between tests).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.app import Charter
from charter.catalog import load_catalog
from charter.config import Settings
from charter.crypto import Keyring
from charter.rights import tables as _rights_tables  # noqa: F401 - truncate the rights tables too
from charter.store import schema
from charter.testing import FakeClock

PG_URL = os.environ.get("CHARTER_TEST_POSTGRES_URL")
REGIONS = tuple(load_catalog().regions)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pg_databases(worker_id: str) -> Iterator[dict[str, str]]:
    if not PG_URL:
        yield {}
        return
    base = make_url(PG_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    prefix = f"charter_t_{worker_id}_{secrets.token_hex(3)}"
    urls: dict[str, str] = {}
    with admin.connect() as conn:
        for name in ("control", *REGIONS):
            db = f"{prefix}_{name}"
            conn.execute(text(f'CREATE DATABASE "{db}"'))
            urls[name] = base.set(database=db).render_as_string(hide_password=False)
    yield urls
    with admin.connect() as conn:
        for url in urls.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, pg_databases: dict[str, str]) -> str:
    if request.param == "postgres" and not pg_databases:
        pytest.skip("CHARTER_TEST_POSTGRES_URL is not set")
    return str(request.param)


def make_settings(backend: str, data_dir: Path, pg_databases: dict[str, str]) -> Settings:
    if backend == "sqlite":
        return Settings(data_dir=data_dir)
    return Settings(
        data_dir=data_dir,
        control_url=pg_databases["control"],
        region_urls={r: pg_databases[r] for r in REGIONS},
    )


@pytest.fixture
def charter(
    backend: str, tmp_path: Path, clock: FakeClock, pg_databases: dict[str, str]
) -> Iterator[Charter]:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    settings = make_settings(backend, data_dir, pg_databases)
    app = Charter.open(settings, clock=clock)
    if backend == "postgres":
        _truncate(app)
    yield app
    app.close()


def _truncate(app: Charter) -> None:
    names = ", ".join(t.name for t in reversed(schema.metadata.sorted_tables))
    for engine in [app.stores.control()] + [app.stores.region(r) for r in REGIONS]:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def keyring_only() -> Keyring:
    return Keyring.generate()
