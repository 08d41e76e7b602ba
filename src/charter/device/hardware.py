"""
The simulated hardware of a reference device: what a factory reset cannot change (its
identifiers) and its location provider.

``hardware.json`` in the device directory stands for the hardware itself, so a factory reset
or a remote erase leaves it in place (they remove every other file): the identifiers are how
the server's Find Device binding recognises the phone after a reset (rule
``lost_mode_survives_reset``). It holds nothing the person made, only the identifiers and the
position the simulated GPS reports.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from charter.client.find_device_crypto import Position
from charter.errors import ConfigError

HARDWARE = "hardware.json"
UNKNOWN = Position(0.0, 0.0, 20_000_000.0)
"""A fix that says nothing (accuracy: the whole planet) until a position is set."""


def _random_identifiers() -> dict[str, str]:
    mac = ":".join(f"{b:02X}" for b in secrets.token_bytes(6))
    return {
        "mac_address": mac,
        "device_id": "serial-" + secrets.token_hex(8),
        "fid": "fid-" + secrets.token_hex(8),
    }


class Hardware:
    """The device's identifiers and its simulated location provider."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / HARDWARE
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no hardware in {data_dir}", field="data_dir") from None
        self.identifiers: dict[str, str] = {str(k): str(v) for k, v in data["identifiers"].items()}
        found = data.get("location")
        self.position = Position(**found) if found else UNKNOWN
        self.imei = str(data.get("imei") or "")
        """The modem's IMEI (read by Mi Pay's binding only; never sent as it is)."""
        self.sim_slot = int(data.get("sim_slot", 1))
        """The slot the SIM card sits in (1 or 2)."""
        if not self.imei:
            self.imei = "35" + "".join(str(secrets.randbelow(10)) for _ in range(13))
            self._save()

    @classmethod
    def make(cls, data_dir: Path, identifiers: Mapping[str, str] | None = None) -> Hardware:
        """The hardware of a device directory: kept when there (after a reset), else made."""
        path = data_dir / HARDWARE
        if not path.exists():
            write_json(path, {"identifiers": dict(identifiers or _random_identifiers())})
        return cls(data_dir)

    def fix(self) -> Position:
        """Where the device is (the simulated GPS)."""
        return self.position

    def move(self, position: Position) -> None:
        """Put the simulated device somewhere (kept for the next start)."""
        self.position = position
        self._save()

    def insert_sim(self, slot: int) -> None:
        """Move the SIM card to slot 1 or 2 (kept for the next start).

        Raises:
            ConfigError: no such slot."""
        if slot not in (1, 2):
            raise ConfigError("the device has SIM slots 1 and 2", field="slot")
        self.sim_slot = slot
        self._save()

    def _save(self) -> None:
        data: dict[str, object] = {
            "identifiers": self.identifiers,
            "imei": self.imei,
            "sim_slot": self.sim_slot,
        }
        if self.position != UNKNOWN:
            p = self.position
            data["location"] = {"lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m}
        write_json(self.path, data)


def write_json(path: Path, data: Mapping[str, object]) -> None:
    """Write a JSON file atomically, mode 0600 (its folder 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
