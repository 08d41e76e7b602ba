"""Find-device tests: close every client a test made."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fd_support import OPEN


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()
