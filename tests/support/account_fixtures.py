"""
Fixtures shared by the account and OAuth tests, over the ``charter`` fixture of
:mod:`charter.testing` (SQLite files, and PostgreSQL when CHARTER_TEST_POSTGRES_URL is set): an account service on the fast test argon2 profile with
an in-memory code sender, and an HTTP app made of the account and OAuth routers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from charter.app import Charter
from charter.services.account import (
    FAST_FOR_TESTS,
    AccountService,
    HashingGate,
    MemorySender,
)
from charter.services.oauth import KeyStore, OAuthProvider
from support.accounts import Account, build_app, make_account

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


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
