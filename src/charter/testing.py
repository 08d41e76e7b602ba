"""
Public helpers for testing code that uses Charter: a clock you move by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

START = 1_767_225_600_000_000
"""2026-01-01T00:00:00Z in microseconds since the epoch."""

DAY = 86_400_000_000
"""One day in microseconds."""


@dataclass
class FakeClock:
    """A clock tests move by hand (microseconds since the epoch); pass it to Charter.open."""

    now: int = START

    def __call__(self) -> int:
        return self.now

    def advance(self, *, days: float = 0, micros: int = 0) -> None:
        """Move the clock forward."""
        self.now += int(days * DAY) + micros
