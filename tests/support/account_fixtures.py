"""
Fixtures shared by the account and OAuth tests: a Charter on real SQLite files (and on PostgreSQL when
CHARTER_TEST_POSTGRES_URL is set), an account service on the fast test argon2 profile with
an in-memory code sender, and an HTTP app made of the account and OAuth routers.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.app import Charter
from charter.catalog import load_catalog
from charter.config import Settings
from charter.services.account import (
    FAST_FOR_TESTS,
    AccountService,
    HashingGate,
    MemorySender,
)
from charter.services.oauth import KeyStore, OAuthProvider
from charter.store import schema
from charter.testing import FakeClock
from support.accounts import Account, build_app, make_account

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

PG_URL = os.environ.get("CHARTER_TEST_POSTGRES_URL")
MARKETS = ("de",)
"""Markets the tests register accounts in; only their regions (and the control database) get
PostgreSQL databases, the others stay on SQLite files and are never opened."""
REGIONS = tuple(sorted({load_catalog().markets[m].region for m in MARKETS}))


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
    prefix = f"charter_acct_{worker_id}_{secrets.token_hex(3)}"
    urls: dict[str, str] = {}
    with admin.connect() as conn:
        for name in ("control", *REGIONS):
            conn.execute(text(f'CREATE DATABASE "{prefix}_{name}"'))
            urls[name] = base.set(database=f"{prefix}_{name}").render_as_string(hide_password=False)
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


@pytest.fixture
def charter(
    backend: str, tmp_path: Path, clock: FakeClock, pg_databases: dict[str, str]
) -> Iterator[Charter]:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    if backend == "sqlite":
        settings = Settings(data_dir=data_dir)
    else:
        settings = Settings(
            data_dir=data_dir,
            control_url=pg_databases["control"],
            region_urls={r: pg_databases[r] for r in REGIONS},
        )
    app = Charter.open(settings, clock=clock)
    if backend == "postgres":
        names = ", ".join(t.name for t in reversed(schema.metadata.sorted_tables))
        for engine in [app.stores.control()] + [app.stores.region(r) for r in REGIONS]:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield app
    app.close()


@pytest.fixture
def sender() -> MemorySender:
    return MemorySender()


@pytest.fixture
def accounts(charter: Charter, sender: MemorySender) -> AccountService:
    return AccountService(
        charter.gate, sender=sender, profile=FAST_FOR_TESTS, hashing=HashingGate(slots=4, queue=64)
    )


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    """One RSA signing key set for the whole run (generating keys is slow)."""
    return KeyStore(tmp_path_factory.mktemp("oidc") / "jwks.json")


@pytest.fixture
def provider(charter: Charter, signing_keys: KeyStore) -> OAuthProvider:
    return OAuthProvider(charter.gate, issuer="https://testserver", keystore=signing_keys)


@pytest.fixture
def app(charter: Charter, accounts: AccountService, provider: OAuthProvider) -> FastAPI:
    return build_app(charter, accounts, provider)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def alice(accounts: AccountService, sender: MemorySender) -> Account:
    return make_account(accounts, sender, "alice@example.org")


@pytest.fixture
def bob(accounts: AccountService, sender: MemorySender) -> Account:
    return make_account(accounts, sender, "bob@example.net")
