"""Rights tests: the shared deployment fixtures plus a Rights engine."""

from __future__ import annotations

import pytest

from charter.app import Charter
from charter.rights import Rights
from support.deployment import (  # noqa: F401 - fixtures are found by name
    backend,
    charter,
    clock,
    keyring_only,
    pg_databases,
)


@pytest.fixture
def rights(charter: Charter) -> Rights:  # noqa: F811 - the imported fixture, by name
    return Rights(charter.gate)
