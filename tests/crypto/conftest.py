"""Fixtures for the crypto tests: keyrings on disk and in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.crypto import Keyring


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "keyring.json"


@pytest.fixture
def file_keyring(keyring_path: Path) -> Keyring:
    return Keyring.create(keyring_path)


@pytest.fixture
def memory_keyring() -> Keyring:
    return Keyring.generate()
