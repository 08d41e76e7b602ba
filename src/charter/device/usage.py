"""
Usage events leave the device only as the person's switches allow: an event whose switch is
off is dropped here, before anything is sent. The switches come from the server (the person
sets them anywhere: the Privacy Center, another device).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

USAGE_SWITCH = "system.user_experience_program"
"""The switch that lets usage statistics leave the device."""


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """A count of something done on the device (never content, never an address)."""

    service: str
    name: str
    count: int
    purpose: str = "analytics"


Sink = Callable[[UsageEvent], None]
"""Where allowed events go (a collector over HTTP)."""


class UsageReporter:
    """Filters usage events by the person's switches."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.sink = sink
        self.switches: Mapping[str, bool] = {}
        self.dropped = 0

    def allowed(self, event: UsageEvent) -> bool:
        """The usage switch and the service's own authorization (when it has one) are on."""
        if not self.switches.get(USAGE_SWITCH, False):
            return False
        return self.switches.get(f"{event.service}.authorization", True)

    def offer(self, event: UsageEvent) -> bool:
        """Send an event if the switches allow it; whether it was sent."""
        if self.sink is None or not self.allowed(event):
            self.dropped += 1
            return False
        self.sink(event)
        return True
