"""Rights tests: a Rights engine over the ``charter`` fixture (charter.testing)."""

from __future__ import annotations

import pytest

from charter.app import Charter
from charter.rights import Rights


@pytest.fixture
def rights(charter: Charter) -> Rights:
    return Rights(charter.gate)
