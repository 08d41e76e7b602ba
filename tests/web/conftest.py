"""Fixtures for the Privacy Center tests: a fresh deployment with demo data per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
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
