"""
Fixtures for the API tests: the deployment's FastAPI app over the ``charter`` fixture of
:mod:`charter.testing` (SQLite, and PostgreSQL with ``CHARTER_TEST_POSTGRES_URL`` set), a
TestClient, and helpers for credentials and subjects.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from api_support import Api
from fastapi import FastAPI

from charter.app import Charter
from charter.asgi import create_app

# The installed Starlette warns at import when its TestClient runs on ``httpx`` rather
# than ``httpx2``; the suite turns warnings into errors, so silence exactly that one here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


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
