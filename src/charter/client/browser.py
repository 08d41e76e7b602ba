"""Mi Browser's server side as a device uses it, over HTTP: clear the person's history on
their other devices (the person confirmed on this device), and search suggestions through
the server's proxy, which keeps nothing. See ``docs/browser-video-pay.md``."""

from __future__ import annotations

from dataclasses import dataclass

from charter.client.http import Transport


@dataclass(frozen=True, slots=True)
class Cleared:
    """What the server did: whether sync was on, and the commands it queued."""

    synced: bool
    commands: list[str]


class BrowserClient:
    """One device's calls to Mi Browser's API."""

    def __init__(self, transport: Transport, device_id: str) -> None:
        self.transport = transport
        self.device_id = device_id

    def clear_history_elsewhere(self) -> Cleared:
        """Clear the synced history and tell the person's other devices (confirmed here)."""
        data = self.transport.request(
            "POST",
            "/v1/browser/history/clear",
            json={"device_id": self.device_id, "confirm": True},
        ).json()
        return Cleared(bool(data["synced"]), [str(c) for c in data["commands"]])

    def suggest(
        self, text: str, *, smart_address_bar: bool = True, searching: bool = False
    ) -> list[str]:
        """Suggestions for typed text (never called from incognito)."""
        data = self.transport.request(
            "POST",
            "/v1/browser/suggestions",
            json={
                "text": text,
                "incognito": False,
                "smart_address_bar": smart_address_bar,
                "searching": searching,
            },
        ).json()
        return [str(s) for s in data["suggestions"]]
