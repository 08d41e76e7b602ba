"""
Fixtures for the API tests: a Charter on a temporary data directory with a controllable
clock, its FastAPI app, a TestClient, and helpers for credentials and subjects.

Every test runs on SQLite; with ``CHARTER_TEST_POSTGRES_URL`` set it runs on PostgreSQL too
(throwaway databases, one per region plus the control database, dropped afterwards).
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, FakeClock
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.app import Charter
from charter.asgi import create_app
from charter.catalog import load_catalog
from charter.config import Settings

# The installed Starlette warns at import when its TestClient runs on ``httpx`` rather
# than ``httpx2``; the suite turns warnings into errors, so silence exactly that one here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

POSTGRES_URL = os.environ.get("CHARTER_TEST_POSTGRES_URL")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings on SQLite, or on throwaway PostgreSQL databases."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield Settings(data_dir=data_dir)
        return
    if not POSTGRES_URL:
        pytest.skip("set CHARTER_TEST_POSTGRES_URL to run against PostgreSQL")
    base = make_url(POSTGRES_URL)
    stem = f"charter_api_{secrets.token_hex(4)}"
    names = {region: f"{stem}_{region}" for region in load_catalog(None).regions}
    names["_control"] = f"{stem}_control"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls = {
            key: base.set(database=name).render_as_string(hide_password=False)
            for key, name in names.items()
        }
        control = urls.pop("_control")
        yield Settings(data_dir=data_dir, region_urls=urls, control_url=control)
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def charter(settings: Settings, clock: FakeClock) -> Iterator[Charter]:
    Charter.init(settings.data_dir)
    opened = Charter.open(settings, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def app(charter: Charter) -> FastAPI:
    return create_app(charter)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, charter: Charter, app: FastAPI) -> Api:
    return Api(client, charter, charter.credentials)
