"""
The find-device wire formats the server checks (pure, no I/O): canonical JSON, owner-signed
commands, device-signed report batches, and the server-signed binding record. The device's
side of the same formats is :mod:`charter.client.find_device_crypto`; both follow
``docs/find_device.md``.

- A **command** is the canonical JSON of ``{v, cmd, device, nonce, issued_at, expires_at,
  args}`` signed with the owner's Ed25519 key; the server checks the signature only to refuse
  garbage early, the device checks it before acting.
- A **report batch** is ``{device, reports: [{id, kind, command, at, sealed}]}`` signed
  with the device's Ed25519 key; ``sealed`` is an HPKE ciphertext to the owner's X25519 key
  (the server never holds a key that opens it).
- A **binding record** ties the keyed hashes of a device's identifiers to an account; the
  server signs it with a key derived from its keyring and checks it at every activation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from charter.errors import InputError, RefusedError

COMMANDS = ("locate", "ring", "lock", "erase", "lost_mode_on", "lost_mode_off")
"""What an owner can ask a device (catalog rule ``remote_actions``: ring, lost mode, erase;
plus locate and lock)."""
MAX_COMMAND_LIFE = 24 * 3600 * 1_000_000
"""A command expires at most a day after it was issued (microseconds)."""
KEY_BYTES = 32


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of a value (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64d(text: str, *, field: str, size: int | None = None, limit: int = 1 << 16) -> bytes:
    """
    Decode standard or URL-safe base64.

    Raises:
        InputError: not base64, too long, or not ``size`` bytes.
    """
    if not isinstance(text, str) or len(text) > limit * 2:
        raise InputError(f"{field} must be base64 text", field=field)
    try:
        std = text.replace("-", "+").replace("_", "/")
        raw = base64.b64decode(std + "=" * (-len(std) % 4), validate=True)
    except ValueError:
        raise InputError(f"{field} is not valid base64", field=field) from None
    if size is not None and len(raw) != size:
        raise InputError(f"{field} must be {size} bytes, base64 encoded", field=field)
    return raw


def b64e(raw: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(raw).decode()


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is an Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def parse_command(payload: bytes, signature: bytes, owner_key: bytes, now: int) -> dict[str, Any]:
    """
    The fields of an owner-signed command, checked as the server can: signature, shape,
    kind, expiry.

    Raises:
        RefusedError: bad signature (``bad_signature``) or expired (``expired``).
        InputError: not a command (what is wrong, in which field).
    """
    if not verify(owner_key, signature, payload):
        raise RefusedError(
            "the command's signature does not verify with the owner's key; sign the exact "
            "payload bytes with the owner's Ed25519 key",
            code="bad_signature",
        )
    try:
        body = json.loads(payload)
    except ValueError:
        raise InputError("the command payload is not JSON", field="payload") from None
    if not isinstance(body, dict) or canonical(body) != payload:
        raise InputError("the command payload must be canonical JSON", field="payload")
    if body.get("v") != 1 or body.get("cmd") not in COMMANDS:
        raise InputError(f"unknown command; use one of: {', '.join(COMMANDS)}", field="cmd")
    for name in ("issued_at", "expires_at"):
        if not isinstance(body.get(name), int):
            raise InputError(f"{name} must be microseconds since the epoch", field=name)
    nonce = body.get("nonce")
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
        raise InputError("nonce must be 16 to 64 characters of random text", field="nonce")
    if not isinstance(body.get("args", {}), dict):
        raise InputError("args must be an object", field="args")
    if body["expires_at"] <= now:
        raise RefusedError("the command has expired; sign a new one", code="expired")
    if body["expires_at"] - body["issued_at"] > MAX_COMMAND_LIFE:
        raise InputError("a command may live one day at most", field="expires_at")
    return body


def binding_key(hmac_key: bytes) -> Ed25519PrivateKey:
    """The server's binding-record signing key, derived from the keyring's HMAC key."""
    seed = hmac.new(hmac_key, b"charter find-device binding key v1", hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def binding_record(subject_id: str, device_id: str, hashes: list[str], bound_at: int) -> bytes:
    """The bytes the server signs to bind a device's identifiers to an account."""
    return canonical(
        {"v": 1, "subject": subject_id, "device": device_id, "ids": sorted(hashes), "at": bound_at}
    )


def batch_message(device_id: str, reports: list[dict[str, Any]]) -> bytes:
    """The bytes a device signs for a batch of reports."""
    return canonical({"device": device_id, "reports": reports})
