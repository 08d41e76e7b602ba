"""
The find-device formats on the device's and the owner's side (``docs/find_device.md``):
owner keys (X25519 to open positions, Ed25519 to sign commands), owner-signed commands, and
positions sealed to the owner with HPKE (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
AES-128-GCM, base mode), each signed inside the seal by the device so the owner knows it came
from the device, not from the server.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
INFO = b"charter find-device position v1"
MICROS = 1_000_000


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8), as both sides sign them."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64e(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def b64d(text: str) -> bytes:
    return base64.b64decode(text)


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether an Ed25519 signature holds."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class Position:
    """A position as the device measures it."""

    lat: float
    lon: float
    accuracy_m: float = 10.0


def seal_position(
    owner_seal_public: bytes,
    device_key: Ed25519PrivateKey,
    position: Position,
    *,
    device_id: str,
    at: int,
    command_id: str | None,
) -> bytes:
    """A position sealed to the owner: HPKE over the JSON of the position and the device's
    signature of it."""
    body = {
        "lat": position.lat,
        "lon": position.lon,
        "acc": position.accuracy_m,
        "at": at,
        "device": device_id,
        "command": command_id,
    }
    signed = {**body, "sig": b64e(device_key.sign(canonical(body)))}
    return SUITE.encrypt(
        canonical(signed), X25519PublicKey.from_public_bytes(owner_seal_public), INFO
    )


def open_position(
    seal_private: X25519PrivateKey, sealed: bytes, device_key: bytes | None = None
) -> dict[str, Any]:
    """
    Open a sealed position; with ``device_key``, also check the device's signature inside.

    Raises:
        ValueError: it does not open with this key, or the device's signature is wrong.
    """
    try:
        body = json.loads(SUITE.decrypt(sealed, seal_private, INFO))
    except Exception as exc:  # any failure means "not for this key"
        raise ValueError("the report does not open with this owner key") from exc
    sig = b64d(body.pop("sig"))
    if device_key is not None and not verify(device_key, sig, canonical(body)):
        raise ValueError("the report is not signed by the device")
    return dict(body)


class OwnerKeyFile:
    """The owner's private keys in a file (0600): X25519 to open positions, Ed25519 to sign."""

    def __init__(self, seal: X25519PrivateKey, sign: Ed25519PrivateKey) -> None:
        self.seal = seal
        self.sign = sign

    @classmethod
    def generate(cls) -> OwnerKeyFile:
        return cls(X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @property
    def seal_public(self) -> bytes:
        return self.seal.public_key().public_bytes_raw()

    @property
    def sign_public(self) -> bytes:
        return self.sign.public_key().public_bytes_raw()

    def save(self, path: Path) -> None:
        """Write the keys (0600, never over an existing file)."""
        data = canonical(
            {
                "v": 1,
                "seal_private": b64e(self.seal.private_bytes_raw()),
                "sign_private": b64e(self.sign.private_bytes_raw()),
            }
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    @classmethod
    def load(cls, path: Path) -> OwnerKeyFile:
        data = json.loads(path.read_bytes())
        return cls(
            X25519PrivateKey.from_private_bytes(b64d(data["seal_private"])),
            Ed25519PrivateKey.from_private_bytes(b64d(data["sign_private"])),
        )

    def command(
        self,
        cmd: str,
        device_id: str,
        now: int,
        *,
        args: dict[str, Any] | None = None,
        ttl_s: int = 600,
    ) -> tuple[bytes, bytes]:
        """A signed command: its canonical payload and the Ed25519 signature."""
        payload = canonical(
            {
                "v": 1,
                "cmd": cmd,
                "device": device_id,
                "nonce": secrets.token_urlsafe(18),
                "issued_at": now,
                "expires_at": now + ttl_s * MICROS,
                "args": args or {},
            }
        )
        return payload, self.sign.sign(payload)

    def open(self, sealed: bytes, device_key: bytes | None = None) -> dict[str, Any]:
        """Open a sealed position (see :func:`open_position`)."""
        return open_position(self.seal, sealed, device_key)
