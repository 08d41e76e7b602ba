"""Mi Video's server side as a device uses it, over HTTP: the mode (local features only, or
online), online events, analytics reports, the local watch history (which the server
refuses: it stays on the device) and the trending list. See ``docs/browser-video-pay.md``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from charter.client.http import Transport


@dataclass(frozen=True, slots=True)
class Trending:
    """Trending topics, and why they are not personalised (``None`` when they are)."""

    personalized: bool
    topics: list[str]
    reason: str | None


@dataclass(frozen=True, slots=True)
class VideoEvent:
    """One online event: a type of the Trending and Video function, a purpose, a value."""

    type: str
    purpose: str
    value: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Measure:
    """One analytics measure (names only; counted, never kept per person)."""

    kind: str
    module: str
    event: str
    value: int = 1


class VideoClient:
    """A person's Mi Video calls (their token); errors are :class:`ApiError`."""

    def __init__(self, base_url: str, token: str, *, transport: Transport | None = None) -> None:
        self.transport = transport or Transport(base_url, token)

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def online(self) -> bool:
        """Whether online features are on (off: local features only)."""
        return bool(self.transport.request("GET", "/v1/video/mode").json()["online"])

    def set_online(self, on: bool) -> bool:
        """Turn online features on, or back to local features only."""
        data = self.transport.request("PUT", "/v1/video/mode", json={"online": on}).json()
        return bool(data["online"])

    def send_events(self, events: Sequence[VideoEvent]) -> int:
        """Send online events (refused ``local_features_only`` while the mode is local)."""
        body = {
            "events": [
                {"type": e.type, "purpose": e.purpose, "value": dict(e.value)} for e in events
            ]
        }
        return int(self.transport.request("POST", "/v1/video/events", json=body).json()["counted"])

    def report(self, measures: Sequence[Measure]) -> int:
        """Send analytics measures; returns how many were counted."""
        body = {
            "reports": [
                {"kind": m.kind, "module": m.module, "event": m.event, "value": m.value}
                for m in measures
            ]
        }
        return int(
            self.transport.request("POST", "/v1/video/analytics", json=body).json()["counted"]
        )

    def upload_watch_history(self) -> None:
        """Try to upload the local watch history: always refused (``on_device_only``)."""
        self.transport.request("POST", "/v1/video/watch-history", expect=(201,))

    def trending(self) -> Trending:
        """The trending list (personalised only where the catalog allows it)."""
        data = self.transport.request("GET", "/v1/video/trending").json()
        return Trending(
            bool(data["personalized"]), [str(t) for t in data["topics"]], data["reason"]
        )
