"""
Key changes under advanced protection, and who may make them.

- **Device proofs.** Only an *approved* device of the account may hand out category keys
  (approve another device, rotate, turn protection off); any other session of the account,
  a web session or a stolen token among them, is refused (``device_not_approved``). A device
  proves it holds its private key with a **device proof**: 32 bytes the server derives
  (keyed hash of the account, the device id and its public key; nothing stored) and gives
  only sealed to the device's public key (HPKE, ``CP 01``). The device sends it back in the
  ``Charter-Device-Proof`` header with ``Charter-Device``.
- **Recovery proofs.** A device that opened the keys with the recovery key may wrap them to
  itself: it proves it holds the recovery key the same way, with a proof sealed to the
  recovery key's public key (kept per category, never its private key).
- **Categories protected before migration 0018** have no recovery public key, so no
  recovery proof can be sealed to it (and nobody but the holder of the recovery key can
  tell the server what it is). For them the recovery key's holder proves instead that it
  opened the category key: the next time an approved device fetches its keys, the server
  gives it a **key proof** sealed to the device; the device seals it under the category key
  (``KP 01``) and sends that back (nothing the person sees). A new device that opened the
  key with the recovery key opens the key proof, sends it, and names the recovery key's
  public key, which the server keeps from then on (the category is then like any other).
  While a removed device's key is still current (``rotate``) and a device holding it
  remains, a key proof approves nobody: the removed device knows that key too.
- **Rotation.** Removing a device marks its categories ``rotate``; a remaining approved
  device makes a new key, wraps it to every remaining approved device and to the recovery
  key, and seals the earlier keys under it (``CK 01``, opaque here) so old items still open
  on the remaining devices. Every other wrap of the category is deleted: the removed device
  cannot open anything written afterwards.
- **Turning protection off** (from an approved device): ``leave`` lets the device re-upload
  the items decrypted, as standard (server-encrypted) items; ``turn_off`` then checks that no
  item of the category is still an envelope and deletes the wrapped keys.
"""

from __future__ import annotations

import hmac
from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import delete, select, update

from charter.crypto import keyed_hash
from charter.errors import InputError, NotFoundError, RefusedError
from charter.services.cloud.categories import category
from charter.services.cloud.devices import (
    APPROVED,
    LEAVING,
    ON,
    ROTATE,
    check_device_id,
    check_public_key,
)
from charter.services.cloud.protection import RECOVERY, Protection, key_id_of
from charter.services.cloud.tables import devices, items, protection, wrapped_keys

PROOF = b"CP\x01"
PREVIOUS = b"CK\x01"
KEY_PROOF = b"KP\x01"
KEY_PROOF_BYTES = len(KEY_PROOF) + 16 + 12 + 32 + 16
"""Magic, key id, nonce, the 32-byte proof sealed (AES-256-GCM) and its tag."""
PROOF_BYTES = 32
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
DEVICE_INFO = b"charter.cloud.e2e.v1 device-proof"
RECOVERY_INFO = b"charter.cloud.e2e.v1 recovery-proof"
MAX_PREVIOUS = 64 * 1024


def seal_proof(proof: bytes, public_hex: str, *, recovery: bool = False) -> bytes:
    """A proof sealed to an X25519 public key (format 1: ``CP 01`` | HPKE seal)."""
    public = X25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    return PROOF + SUITE.encrypt(proof, public, info=RECOVERY_INFO if recovery else DEVICE_INFO)


class KeyChanges:
    """Who may change keys, and the changes: approvals, rotation, turning protection off."""

    def __init__(self, protection_: Protection) -> None:
        self.protection = protection_
        self.sync = protection_.sync
        self.clock = protection_.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    # -- proofs ----------------------------------------------------------------------------

    def device_proof(self, subject_id: str, device_id: str, public_key: str) -> bytes:
        """The proof of a device (never stored; derived again to check it)."""
        value = f"{subject_id}\x00{device_id}\x00{public_key}".encode()
        return keyed_hash(self.sync.gate.keyring.hmac_key, value, context="cloud.device-proof")

    def recovery_proof(self, subject_id: str, name: str, recovery_public: str) -> bytes:
        """The proof of the recovery key of a category."""
        value = f"{subject_id}\x00{name}\x00{recovery_public}".encode()
        return keyed_hash(self.sync.gate.keyring.hmac_key, value, context="cloud.recovery-proof")

    def sealed_device_proof(self, subject_id: str, device_id: str) -> bytes:
        """The device's proof, sealed to its public key: only the device opens it."""
        device = self.protection.devices.get(subject_id, device_id)
        proof = self.device_proof(subject_id, device_id, device.public_key)
        return seal_proof(proof, device.public_key)

    def sealed_recovery_proofs(self, subject_id: str) -> dict[str, bytes]:
        """Per protected category, its recovery proof sealed to the recovery key."""
        return {
            p.category: seal_proof(
                self.recovery_proof(subject_id, p.category, p.recovery_public),
                p.recovery_public,
                recovery=True,
            )
            for p in self.protection.status(subject_id).values()
            if p.recovery_public
        }

    def key_proof(self, subject_id: str, name: str, key_id: str) -> bytes:
        """The key proof of a category's current key (never stored in clear)."""
        value = f"{subject_id}\x00{name}\x00{key_id}".encode()
        return keyed_hash(self.sync.gate.keyring.hmac_key, value, context="cloud.key-proof")

    def key_proofs_due(self, subject_id: str, device_id: str) -> dict[str, bytes]:
        """Per category protected before 0018 that has no key proof for its current key
        yet, and whose key the device holds: the key proof sealed to the device."""
        if device_id == RECOVERY:
            return {}
        held = {w.category for w in self.protection.keys_for(subject_id, device_id)}
        due = [
            p
            for p in self.protection.status(subject_id).values()
            if p.category in held
            and not p.recovery_public
            and not (p.key_proof or b"").startswith(KEY_PROOF + bytes.fromhex(p.key_id))
        ]
        if not due:
            return {}
        device = self.protection.devices.get(subject_id, device_id)
        return {
            p.category: seal_proof(
                self.key_proof(subject_id, p.category, p.key_id), device.public_key
            )
            for p in due
        }

    def keep_key_proof(self, subject_id: str, category_name: str, sealed: bytes) -> None:
        """
        Keep the key proof an approved device sealed under the category's current key.

        Raises:
            InputError: not a ``KP 01`` seal under the current key.
            RefusedError: not protected, or its recovery public key is known (no key proof
                is needed: ``recovery_ready``).
        """
        name = category(category_name).name
        with self.control.begin() as conn:
            row = self._protected_row(conn, subject_id, name)
            if row.recovery_public:
                raise RefusedError(
                    f"the recovery key of {name} is known: no key proof is needed",
                    code="recovery_ready",
                )
            if len(sealed) != KEY_PROOF_BYTES or not sealed.startswith(
                KEY_PROOF + bytes.fromhex(row.key_id)
            ):
                raise InputError(
                    f"the key proof of {name} is sealed under its current key (KP 01 | key id "
                    "| nonce | AES-256-GCM)",
                    field="key_proof_b64",
                )
            conn.execute(
                update(protection)
                .where(protection.c.subject_id == subject_id, protection.c.category == name)
                .values(key_proof=sealed)
            )

    def bind_recovery(self, subject_id: str, names: list[str], recovery_public: str) -> None:
        """Keep the recovery key's public key of categories protected before 0018 (after a
        device proved it opened their key with it); their key proof is no longer needed."""
        key = check_public_key(recovery_public)
        with self.control.begin() as conn:
            conn.execute(
                update(protection)
                .where(
                    protection.c.subject_id == subject_id,
                    protection.c.category.in_(names),
                    protection.c.recovery_public.is_(None),
                )
                .values(recovery_public=key, key_proof=None)
            )

    def proven_device(
        self, subject_id: str, device_id: str | None, proof_hex: str | None
    ) -> tuple[str, bool]:
        """
        The calling device, checked: its id and whether it is approved.

        Raises:
            RefusedError: no device named, or its proof is missing or wrong
                (``device_proof_required``).
        """
        if not device_id or not proof_hex:
            raise RefusedError(
                "only a device of the account may change keys: send Charter-Device and "
                "Charter-Device-Proof (the proof POST /v1/cloud/devices seals to the device)",
                code="device_proof_required",
            )
        check_device_id(device_id)
        try:
            device = self.protection.devices.get(subject_id, device_id)
        except NotFoundError:
            raise RefusedError(
                "this device is not registered with the account", code="device_proof_required"
            ) from None
        expected = self.device_proof(subject_id, device_id, device.public_key)
        try:
            given = bytes.fromhex(proof_hex)
        except ValueError:
            given = b""
        if not hmac.compare_digest(given, expected):
            raise RefusedError(
                "the device proof does not match this device", code="device_proof_required"
            )
        return device_id, device.e2e == APPROVED

    def approved_device(self, subject_id: str, device_id: str | None, proof: str | None) -> str:
        """
        Raises:
            RefusedError: not a proven, approved device of the account
                (``device_proof_required``, ``device_not_approved``).
        """
        caller, approved = self.proven_device(subject_id, device_id, proof)
        if not approved:
            raise RefusedError(
                "only an approved device (one that holds the keys) may do this; approve this "
                "device from another one, or recover with the recovery key",
                code="device_not_approved",
            )
        return caller

    def check_approval(
        self,
        subject_id: str,
        target: str,
        wrapped: dict[str, bytes],
        caller: str | None,
        proof: str | None,
        recovery_proofs: dict[str, str],
    ) -> None:
        """
        Keys may be wrapped to ``target`` by an approved device, or by the target itself
        holding the recovery key (a recovery proof of each category it wraps).

        Raises:
            RefusedError: anyone else (``device_not_approved``, ``device_proof_required``),
                or a wrong recovery proof (``recovery_proof_invalid``).
        """
        who, approved = self.proven_device(subject_id, caller, proof)
        if approved:
            return
        status = self.protection.status(subject_id)
        before_0018 = any(n in status and not status[n].recovery_public for n in wrapped)
        if who != target or not (recovery_proofs or before_0018):
            raise RefusedError(
                "keys are handed out only by an approved device of the account (or by a "
                "device to itself with the recovery key)",
                code="device_not_approved",
            )
        for name in wrapped:
            found = status.get(name)
            given = recovery_proofs.get(name, "")
            try:
                raw = bytes.fromhex(given)
            except ValueError:
                raw = b""
            if found is not None and not found.recovery_public:
                self._check_key_proof(subject_id, found, raw, target)
            elif found is None or not hmac.compare_digest(
                raw, self.recovery_proof(subject_id, name, found.recovery_public or "")
            ):
                raise RefusedError(
                    f"the recovery proof of {name} does not match its recovery key",
                    code="recovery_proof_invalid",
                )

    def _check_key_proof(self, subject_id: str, found: Any, given: bytes, target: str) -> None:
        """A category protected before 0018: the recovering device opened its key proof."""
        name = found.category
        if found.recovery == "preparing":
            raise RefusedError(
                f"{name} was protected before recovery keys were registered with us, and no "
                "device has prepared its recovery yet: open the app once on a device that "
                "holds the keys (it does this by itself), then recover again; or approve "
                "this device from that device",
                code="recovery_not_ready",
            )
        if found.state == ROTATE and any(
            d.e2e == APPROVED and d.device_id != target
            for d in self.protection.devices.all(subject_id)
        ):
            raise RefusedError(
                f"a device holding the key of {name} was removed: a remaining device gives "
                f"{name} a new key first (it asks for the recovery key once), then recover",
                code="rotation_due",
            )
        if not hmac.compare_digest(given, self.key_proof(subject_id, name, found.key_id)):
            raise RefusedError(
                f"the recovery proof of {name} does not match its recovery key",
                code="recovery_proof_invalid",
            )

    # -- rotation --------------------------------------------------------------------------

    def rotate(
        self,
        subject_id: str,
        category_name: str,
        *,
        caller: str,
        key_id: str,
        wrapped: dict[str, bytes],
        previous: bytes,
        recovery_public: str,
    ) -> None:
        """
        Replace a category's key (after a device was removed): ``wrapped`` covers exactly
        the approved devices and ``recovery``; every other wrap is deleted.

        Raises:
            InputError: a wrap missing or extra, a malformed key id, wrap or ``previous``.
            RefusedError: the category is not protected (``not_protected``).
        """
        name = category(category_name).name
        key = key_id_of(key_id)
        check_public_key(recovery_public)
        if not previous.startswith(PREVIOUS + bytes.fromhex(key)) or len(previous) > MAX_PREVIOUS:
            raise InputError(
                "previous is the earlier keys sealed under the new key (CK 01 | key id | ...)",
                field="previous",
            )
        now = self.clock()
        with self.control.begin() as conn:
            self._protected_row(conn, subject_id, name)
            approved = {
                r.device_id
                for r in conn.execute(
                    select(devices.c.device_id).where(
                        devices.c.subject_id == subject_id, devices.c.e2e == APPROVED
                    )
                ).all()
            }
            needed = approved | {RECOVERY, caller}
            missing, extra = sorted(needed - set(wrapped)), sorted(set(wrapped) - needed)
            if missing or extra:
                raise InputError(
                    "wrap the new key to every approved device and to the recovery key, and "
                    f"to nobody else; missing: {', '.join(missing) or 'none'}; not approved: "
                    f"{', '.join(extra) or 'none'}",
                    field="wrapped",
                )
            conn.execute(
                delete(wrapped_keys).where(
                    wrapped_keys.c.subject_id == subject_id, wrapped_keys.c.category == name
                )
            )
            conn.execute(
                update(protection)
                .where(protection.c.subject_id == subject_id, protection.c.category == name)
                .values(
                    key_id=key,
                    previous=previous,
                    recovery_public=recovery_public,
                    state=ON,
                    key_proof=None,  # the recovery key's public key is known from now on
                )
            )
            for recipient, blob in wrapped.items():
                self.protection.put_wrap(conn, subject_id, name, key, recipient, blob, now)
        self.protection.audit(subject_id, "cloud_key_rotation", {"category": name})

    # -- turning protection off ------------------------------------------------------------

    def leave(self, subject_id: str, category_name: str) -> None:
        """
        Start turning a category's protection off: from now on its items may be uploaded
        as standard content (the device re-uploads them decrypted).

        Raises:
            RefusedError: not protected (``not_protected``).
        """
        name = category(category_name).name
        with self.control.begin() as conn:
            self._protected_row(conn, subject_id, name)
            conn.execute(
                update(protection)
                .where(protection.c.subject_id == subject_id, protection.c.category == name)
                .values(state=LEAVING)
            )
        self.protection.audit(subject_id, "cloud_protection", {"category": name, "on": "leaving"})

    def turn_off(self, subject_id: str, category_name: str) -> int:
        """
        End a category's protection once every item is standard again: deletes its
        wrapped keys and its protection. Returns the items checked.

        Raises:
            RefusedError: not protected or not being turned off (``not_leaving``), or an item
                still encrypted on a device (``items_still_protected``, with the count).
        """
        name = category(category_name).name
        with self.control.connect() as conn:
            row = self._protected_row(conn, subject_id, name)
            ids = [
                r.id
                for r in conn.execute(
                    select(items.c.id).where(
                        items.c.subject_id == subject_id,
                        items.c.category == name,
                        items.c.record_id.is_not(None),
                    )
                ).all()
            ]
        if row.state != LEAVING:
            raise RefusedError(
                f"start with POST /v1/cloud/protection/{name}/leave, then re-upload the items "
                "decrypted",
                code="not_leaving",
            )
        left = sum(1 for i in ids if self.sync.content(subject_id, i)[1].startswith(b"CE\x01"))
        if left:
            raise RefusedError(
                f"{left} item(s) of {name} are still encrypted on a device; re-upload them "
                "decrypted first (trashed ones too: restore, re-upload, delete again)",
                code="items_still_protected",
            )
        with self.control.begin() as conn:
            conn.execute(
                delete(wrapped_keys).where(
                    wrapped_keys.c.subject_id == subject_id, wrapped_keys.c.category == name
                )
            )
            conn.execute(
                delete(protection).where(
                    protection.c.subject_id == subject_id, protection.c.category == name
                )
            )
        self.protection.audit(subject_id, "cloud_protection", {"category": name, "on": False})
        return len(ids)

    def _protected_row(self, conn: Any, subject_id: str, name: str) -> Any:
        row = conn.execute(
            select(protection).where(
                protection.c.subject_id == subject_id, protection.c.category == name
            )
        ).first()
        if row is None:
            raise RefusedError(f"{name} is not under advanced protection", code="not_protected")
        return row
