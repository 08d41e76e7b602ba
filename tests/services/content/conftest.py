"""Fixtures of the content services' tests: the API over the ``charter`` deployment, and a
deployment whose settings exclude Russia from Themes (``CHARTER_RULE_MARKETS``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.testing import FakeClock, empty_tables, settings_for
from support.store_services import TestClient


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


@pytest.fixture
def excluding(
    backend: str, tmp_path: Path, clock: FakeClock, pg_databases: dict[str, str]
) -> Iterator[Charter]:
    """A deployment that names Russia for ``themes.market_exclusion``."""
    databases = pg_databases if backend == "postgres" else None
    data_dir = tmp_path / "excluding"
    Charter.init(data_dir)
    settings = dataclasses.replace(
        settings_for(data_dir, databases), rule_markets={"themes.market_exclusion": ("ru",)}
    )
    deployment = Charter.open(settings, clock=clock)
    if databases:
        empty_tables(deployment)
    yield deployment
    deployment.close()
