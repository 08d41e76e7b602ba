"""
Usage events leave the device only as the person's switches allow: an event whose switch is
off is dropped here, before anything is sent (only the declared essential telemetry, kind
``essential``, passes whatever the switches, as the server's usage API also takes it). The switches come from the server (the person
sets them anywhere: the Privacy Center, another device).

Allowed events go to a :data:`Sink`. The runtime's sink is :class:`HttpUsageSender`: it
batches events and posts them, with the person's token, to a URL set in ``device.json``
(``usage_url``; by default ``<server>/v1/usage/events``, the usage API's route), in the usage
API's shape: ``{"device": id, "events": [{"kind": ..., "fields": {...}}]}``. With no server
(or ``usage_url`` set to ``""``) nothing is sent and allowed events are counted as dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from charter.client import ApiError, Transport

USAGE_SWITCH = "system.user_experience_program"
"""The switch that lets usage statistics leave the device."""

DIAGNOSTICS_SWITCH = "system.usage_diagnostics"
"""The switch under which the server keeps app usage events ("Usage and Diagnostics")."""

ESSENTIAL = "essential"
"""The kind of the telemetry system updates and security need, sent whatever the switches."""

USAGE_PATH = "/v1/usage/events"
"""The usage API's route on the server (the default ``usage_url``)."""

BATCH = 1000
"""At most this many events in one request (the usage API's limit)."""


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """A count of something done on the device (never content, never an address).

    ``kind`` is the usage API's event kind and ``fields`` its declared fields (for
    ``usage_sequence``: package_name, version_type, open_close, duration, operator,
    network_type); with no ``fields``, ``package_name`` is the service and ``duration`` the
    count."""

    service: str
    name: str
    count: int
    purpose: str = "analytics"
    kind: str = "usage_sequence"
    fields: tuple[tuple[str, str | int | bool | list[str]], ...] = ()

    def wire(self) -> dict[str, Any]:
        """The event as the usage API takes it."""
        fields = dict(self.fields) or {"package_name": self.service, "duration": self.count}
        return {"kind": self.kind, "fields": fields}


Sink = Callable[[UsageEvent], None]
"""Where allowed events go (a collector over HTTP)."""


class HttpUsageSender:
    """A :data:`Sink` that batches events and posts them to ``url`` (absolute, or a path on
    the transport's server) with the person's token."""

    def __init__(self, transport: Transport, url: str, device_id: str) -> None:
        self.transport = transport
        self.url = url
        self.device_id = device_id
        self.queue: list[UsageEvent] = []
        self.sent = 0
        self.refused = 0
        """Events the server answered as not accepted (its outcome says why)."""
        self.outcomes: list[dict[str, Any]] = []
        """The server's outcome of each event of the last batch (accepted, reason)."""

    def __call__(self, event: UsageEvent) -> None:
        self.queue.append(event)

    def flush(self) -> int:
        """
        Post the queued events (in batches); how many were sent. A batch the server refuses
        as a whole is dropped (it would be refused again); a network failure keeps the queue
        for the next flush.

        Raises:
            httpx.TransportError: the server could not be reached (nothing was lost).
        """
        sent = 0
        while self.queue:
            batch = self.queue[:BATCH]
            body = {"device": self.device_id, "events": [e.wire() for e in batch]}
            try:
                answer = self.transport.request("POST", self.url, json=body)
            except ApiError:
                del self.queue[: len(batch)]
                self.refused += len(batch)
                continue
            del self.queue[: len(batch)]
            outcomes = answer.json() if answer.content else []
            if isinstance(outcomes, list):
                self.outcomes = outcomes
                self.refused += sum(1 for o in outcomes if not o.get("accepted", True))
            sent += len(batch)
        self.sent += sent
        return sent


class UsageReporter:
    """Filters usage events by the person's switches."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.sink = sink
        self.switches: Mapping[str, bool] = {}
        self.dropped = 0

    def allowed(self, event: UsageEvent) -> bool:
        """Essential telemetry (system updates and security) always; any other event when
        the usage switches (User Experience Program, Usage and Diagnostics) and the
        service's own authorization (when it has one) are on."""
        if event.kind == ESSENTIAL:
            return True
        if not all(self.switches.get(s, False) for s in (USAGE_SWITCH, DIAGNOSTICS_SWITCH)):
            return False
        return self.switches.get(f"{event.service}.authorization", True)

    def offer(self, event: UsageEvent) -> bool:
        """Send an event if the switches allow it; whether it was sent."""
        if self.sink is None or not self.allowed(event):
            self.dropped += 1
            return False
        self.sink(event)
        return True

    def flush(self) -> int:
        """Post what the sink holds (when it batches); how many were sent."""
        flush = getattr(self.sink, "flush", None)
        return int(flush()) if callable(flush) else 0


def sender_for(
    config: Mapping[str, Any], transport: Transport | None, device_id: str
) -> HttpUsageSender | None:
    """The runtime's sender: ``usage_url`` of ``device.json``, else the server's usage route;
    None without a server or with ``usage_url`` set to ``""``."""
    url = config.get("usage_url", USAGE_PATH)
    if transport is None or not url:
        return None
    return HttpUsageSender(transport, str(url), device_id)
