"""Fixtures for the Privacy Center tests: a fresh deployment with demo data per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import ARGS, ARTIFACTS, CHROMIUM, Server
from web_support import Deployment, TestClient, deploy, sign_in


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    found = deploy(tmp_path / "data")
    yield found
    found.charter.close()


@pytest.fixture
def client(deployment: Deployment) -> Iterator[TestClient]:
    with TestClient(deployment.app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


@pytest.fixture
def user_client(deployment: Deployment, client: TestClient) -> TestClient:
    user = deployment.demo.user
    assert user.password is not None
    sign_in(client, deployment.outbox, user.identifier, user.password)
    return client


@pytest.fixture
def new_client(deployment: Deployment) -> Iterator[Callable[[], TestClient]]:
    made: list[TestClient] = []

    def make() -> TestClient:
        c = TestClient(deployment.app, base_url="https://testserver", follow_redirects=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def staff_client(deployment: Deployment, new_client: Callable[[], TestClient]) -> TestClient:
    staff = deployment.demo.staff
    assert staff.password is not None
    c = new_client()
    sign_in(c, deployment.outbox, staff.identifier, staff.password)
    return c


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Deployment, str]]:
    """A deployment with demo data served over HTTP: it and its base URL."""
    deployment = deploy(tmp_path / "data")
    with Server(deployment) as server:
        yield deployment, server.url
    deployment.charter.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield instance
        instance.close()
