"""
Categories protected before migration 0018: the server never learned their recovery key's
public key, and only the person's recovery key can tell it. So that the recovery key still
approves a new device, without the person doing anything:

- an **approved device** fetching its keys may find a key proof sealed to it
  (``key_proof_sealed_b64``); it opens it, seals it under the category key (``KP 01``) and
  sends it back (:func:`prepare_recovery`, called by ``ProtectedCloud.key``);
- a **new device** opening the keys with the recovery key opens that key proof with the
  category key and sends it as its recovery proof, with the recovery key's public key,
  which the server keeps from then on (``ProtectedCloud.recover``).

A **rotation** must wrap the new key to the recovery key: for such a category the device
asks for the recovery key once (:func:`recovery_public_for` checks it opens the category's
recovery wrap) and the server keeps its public key from then on.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from charter.client.e2e import (
    E2EError,
    open_proof,
    public_bytes,
    recovery_private_key,
    seal_key_proof,
    unwrap_key,
)
from charter.client.http import ApiError, Transport

RECOVERY = "recovery"


class _Device(Protocol):
    """What a device's key holds here (``charter.client.protection.DeviceKey``)."""

    @property
    def private_key(self) -> X25519PrivateKey: ...


class ProtectedCloud(Protocol):
    """The device's protected cloud (``charter.client.protection.ProtectedCloud``)."""

    @property
    def device(self) -> _Device: ...

    @property
    def transport(self) -> Transport: ...

    def register(self) -> dict[str, Any]: ...


def prepare_recovery(
    mine: ProtectedCloud, category: str, key: bytes, entry: dict[str, Any]
) -> None:
    """Seal the key proof the server gave this device under the category key and send it
    (nothing when none is due; a refusal is left for the next fetch, which offers it again)."""
    sealed = entry.get("key_proof_sealed_b64")
    if not sealed:
        return
    proof = open_proof(base64.b64decode(sealed), mine.device.private_key)
    body = base64.b64encode(seal_key_proof(key, category, proof)).decode()
    try:
        mine.register()  # the device proof: only an approved device may send it
        mine.transport.request(
            "PUT", f"/v1/cloud/protection/{category}/key-proof", json={"key_proof_b64": body}
        )
    except ApiError:
        return


def recovery_public_for(
    mine: ProtectedCloud, category: str, protected: dict[str, Any], code: str
) -> str:
    """
    The recovery key's public key (hex) to wrap a new key of ``category`` to: the one the
    server keeps, or for a category protected before 0018 the one of ``code``, once it
    opened the category's recovery wrap.

    Raises:
        E2EError: protected before 0018 and no recovery key given, or it is not this
            category's recovery key.
    """
    if protected.get("recovery_public"):
        return str(protected["recovery_public"])
    if not code:
        raise E2EError(
            f"{category} was protected before recovery keys were registered with the server: "
            "to give it a new key, enter its recovery key once (rotate(category, "
            "recovery=code)); it stays on this device only"
        )
    private = recovery_private_key(code)
    for entry in mine.transport.request(
        "GET", "/v1/cloud/keys", params={"recipient": RECOVERY}
    ).json():
        if entry["category"] == category:
            unwrap_key(
                base64.b64decode(entry["wrapped_b64"]),
                category,
                private,
                bytes.fromhex(protected["key_id"]),
            )  # raises E2EError unless this is the category's recovery key
            return public_bytes(private.public_key()).hex()
    raise E2EError(f"the server holds no recovery wrap of {category}")
