"""Suite-wide settings: the deployment fixtures of :mod:`charter.testing` (``clock``,
``backend``, ``pg_databases``, ``charter``), a bare keyring, and the hypothesis profile used in
CI and on developer machines."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from charter.crypto import Keyring

pytest_plugins = ["charter.testing"]

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def keyring_only() -> Keyring:
    """A keyring in memory only."""
    return Keyring.generate()
