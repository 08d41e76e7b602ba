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

    @classmethod
    def make(cls, data_dir: Path, identifiers: Mapping[str, str] | None = None) -> Hardware:
        """The hardware of a device directory: kept when there (after a reset), else made."""
        path = data_dir / HARDWARE
        if not path.exists():
            _write(path, {"identifiers": dict(identifiers or _random_identifiers())})
        return cls(data_dir)

    def fix(self) -> Position:
        """Where the device is (the simulated GPS)."""
        return self.position

    def move(self, position: Position) -> None:
        """Put the simulated device somewhere (kept for the next start)."""
        self.position = position
        location = {"lat": position.lat, "lon": position.lon, "accuracy_m": position.accuracy_m}
        _write(self.path, {"identifiers": self.identifiers, "location": location})


def _write(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
