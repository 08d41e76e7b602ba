"""Fixtures for catalog tests: the built-in catalog and writable copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from charter.catalog import Catalog, builtin_catalog_path, load_catalog


@pytest.fixture(scope="session")
def builtin() -> Catalog:
    return load_catalog()


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "catalog"
    shutil.copytree(builtin_catalog_path(), dest)
    return dest
