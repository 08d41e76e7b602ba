"""
Time as Charter counts it: integer microseconds since the Unix epoch (UTC).

Everything that needs the time is handed a :data:`Clock` by the composition root
(:meth:`charter.app.Charter.open`); tests hand in :class:`charter.testing.FakeClock`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""A function returning now, in microseconds since the Unix epoch."""


def system_clock() -> int:
    """Now, in microseconds since the Unix epoch."""
    return time.time_ns() // 1000
