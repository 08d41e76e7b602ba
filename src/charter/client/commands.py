"""A device's enrolment and command queue over HTTP: register with the person's account,
read the commands waiting for this device (withdrawals, deletions, history clearing, ...)
and confirm each once it is done; read the person's switches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from charter.client.http import Transport


@dataclass(frozen=True, slots=True)
class Command:
    """A command waiting for a device, as the server describes it."""

    id: str
    device_id: str
    kind: str
    service: str | None
    created_at: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> Command:
        """From the API's JSON."""
        return cls(
            data["id"], data["device_id"], data["kind"], data.get("service"), data["created_at"]
        )


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the server answered to a device's registration."""

    device_id: str
    subject_id: str


class DeviceClient:
    """One device of one person, talking to its server."""

    def __init__(
        self, base_url: str, token: str, device_id: str, *, transport: Transport | None = None
    ) -> None:
        self.transport = transport or Transport(base_url, token)
        self.device_id = device_id

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def register(self) -> Enrolment:
        """Register this device with the account of the token (idempotent)."""
        data = self.transport.request(
            "POST", "/v1/me/devices", json={"device_id": self.device_id}
        ).json()
        return Enrolment(data["device_id"], data["subject_id"])

    def pending(self) -> list[Command]:
        """The commands this device has not confirmed yet, oldest first."""
        data = self.transport.request(
            "GET", "/v1/me/device-commands", params={"device_id": self.device_id}
        ).json()
        return [Command.of(c) for c in data]

    def ack(self, command_id: str) -> Command:
        """Confirm a command was carried out."""
        return Command.of(
            self.transport.request("POST", f"/v1/me/device-commands/{command_id}/ack").json()
        )

    def switches(self, subject_id: str) -> dict[str, bool]:
        """The person's switches (their settings over the catalog defaults)."""
        data = self.transport.request("GET", f"/v1/subjects/{subject_id}/switches").json()
        return {str(k): bool(v) for k, v in data["switches"].items()}
