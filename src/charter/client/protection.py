"""
Advanced protection (end-to-end) on a device: the device's key pair in a key file, its
record on the server (public key, per-device settings), opting a category in, approving a
new device, recovering with the recovery key, and items encrypted on the device (formats in
:mod:`charter.client.e2e`). The server never sees a key, a name, a path or a content.

    device = DeviceKey.load_or_create(Path("~/.charter/device-key.json").expanduser())
    with CloudClient(base, token) as cloud:
        mine = ProtectedCloud(cloud, device)
        mine.register()
        recovery = mine.protect("contacts", acknowledge_data_loss=True)  # show it once
        item = mine.upload("contacts", vcard, name="Ana.vcf", path="Family")
        opened = mine.download(item)              # .name, .path, .content
        mine.approve(other_device_id)             # after comparing fingerprints
        mine.remove_device(lost_device_id)        # and a new key for what it held
        mine.unprotect("contacts")                # back to standard, server-encrypted
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from charter.client.cloud import CloudClient, Item
from charter.client.e2e import (
    E2EError,
    Opened,
    fingerprint,
    key_id,
    new_key,
    new_recovery_code,
    open_item,
    open_key_proof,
    open_previous,
    open_proof,
    open_sealed,
    public_bytes,
    recovery_private_key,
    seal_item,
    seal_previous,
    seal_shared_photo,
    seal_to_self,
    unwrap_key,
    wrap_for_session,
    wrap_key,
)
from charter.client.http import ApiError
from charter.client.recovery_binding import prepare_recovery, recovery_public_for
from charter.photos import strip_bytes

KEY_FILE_FORMAT = "charter.device-key.v1"
RECOVERY = "recovery"
DEVICE_HEADER = "Charter-Device"
PROOF_HEADER = "Charter-Device-Proof"
ENVELOPE_HEAD = 3 + 16


class LockedError(Exception):
    """This device does not hold the key of a protected category (not approved yet)."""


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """A device's id and X25519 key pair, kept in a key file on the device only."""

    device_id: str
    private_key: X25519PrivateKey

    @property
    def public_key(self) -> X25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_hex(self) -> str:
        return public_bytes(self.public_key).hex()

    @property
    def fingerprint(self) -> str:
        """What this device shows when another approves it."""
        return fingerprint(public_bytes(self.public_key))

    @classmethod
    def create(cls) -> DeviceKey:
        """A new device identity (not saved)."""
        return cls("dv_" + secrets.token_hex(16), X25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> DeviceKey:
        """The device's key from its key file, made (mode 0600) on first use."""
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != KEY_FILE_FORMAT:
                raise E2EError(f"{path} is not a {KEY_FILE_FORMAT} key file")
            raw = base64.b64decode(data["x25519_private"])
            return cls(str(data["device_id"]), X25519PrivateKey.from_private_bytes(raw))
        key = cls.create()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        raw = key.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        body = json.dumps(
            {
                "format": KEY_FILE_FORMAT,
                "device_id": key.device_id,
                "x25519_private": base64.b64encode(raw).decode(),
            }
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        return key


class ProtectedCloud:
    """A device's cloud with advanced protection: keys stay here."""

    def __init__(self, cloud: CloudClient, device: DeviceKey) -> None:
        self.cloud = cloud
        self.device = device
        self.transport = cloud.transport
        self.transport.headers[DEVICE_HEADER] = device.device_id
        self._keys: dict[str, bytes] = {}
        self._ring: dict[bytes, bytes] = {}
        """Every key this device opened, current and earlier, by key id."""

    # -- the device's record -------------------------------------------------------------

    def register(self) -> dict[str, Any]:
        """Record this device and its public key with the server (again: no change), and
        open its device proof: from then on its calls prove they come from this device."""
        me = dict(
            self.transport.request(
                "POST",
                "/v1/cloud/devices",
                json={"device_id": self.device.device_id, "public_key": self.device.public_hex},
            ).json()
        )
        proof = open_proof(base64.b64decode(me.pop("proof_sealed_b64")), self.device.private_key)
        self.transport.headers[PROOF_HEADER] = proof.hex()
        return me

    def _proven(self) -> None:
        if PROOF_HEADER not in self.transport.headers:
            self.register()

    def devices(self) -> list[dict[str, Any]]:
        """The person's devices: id, public key, fingerprint, ``e2e`` state, settings."""
        return list(self.transport.request("GET", "/v1/cloud/devices").json())

    def settings(
        self,
        *,
        sync_off: list[str] | None = None,
        wifi_only: bool | None = None,
        gallery_folders: list[str] | None = None,
    ) -> dict[str, Any]:
        """Change this device's settings; ``gallery_folders`` (an empty list: all folders)
        is sealed to this device before it leaves it."""
        body: dict[str, Any] = {}
        if sync_off is not None:
            body["sync_off"] = sync_off
        if wifi_only is not None:
            body["wifi_only"] = wifi_only
        if gallery_folders is not None:
            body["gallery_chosen"] = bool(gallery_folders)
            sealed = seal_to_self(json.dumps(gallery_folders).encode(), self.device.public_key)
            body["folders_sealed_b64"] = base64.b64encode(sealed).decode()
            body["folder_count"] = len(gallery_folders)
        return dict(
            self.transport.request(
                "PUT", f"/v1/cloud/devices/{self.device.device_id}", json=body
            ).json()
        )

    def gallery_folders(self) -> list[str]:
        """This device's chosen gallery folders, opened from its record."""
        me = self.transport.request("GET", f"/v1/cloud/devices/{self.device.device_id}").json()
        sealed = me.get("folders_sealed_b64")
        if not sealed:
            return []
        return list(json.loads(open_sealed(base64.b64decode(sealed), self.device.private_key)))

    # -- protection ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The statement shown before opting in and the protected categories."""
        return dict(self.transport.request("GET", "/v1/cloud/protection").json())

    def protect(self, category: str, *, acknowledge_data_loss: bool, recovery: str = "") -> str:
        """
        Put a category under advanced protection: make its key here, wrap it to this
        device, to the recovery key (a new one unless ``recovery`` is given) and to every
        approved device, then re-encrypt the category's live items. Returns the recovery
        key: show it to the person once.
        """
        self.register()
        code = recovery or new_recovery_code()
        recovery_public = recovery_private_key(code).public_key()
        key = new_key()
        wrapped = {
            self.device.device_id: wrap_key(key, category, self.device.public_key),
            RECOVERY: wrap_key(key, category, recovery_public),
        }
        for other in self.devices():
            if other["e2e"] == "approved" and other["device_id"] != self.device.device_id:
                public = X25519PublicKey.from_public_bytes(bytes.fromhex(other["public_key"]))
                wrapped[other["device_id"]] = wrap_key(key, category, public)
        plain = [
            (c, self.cloud.download(c.id))
            for c in self.cloud.all_changes()
            if c.category == category and c.state == "live"
        ]
        self.transport.request(
            "PUT",
            f"/v1/cloud/protection/{category}",
            json={
                "acknowledge_data_loss": acknowledge_data_loss,
                "key_id": key_id(key).hex(),
                "device_id": self.device.device_id,
                "recovery_public": public_bytes(recovery_public).hex(),
                "wrapped": {r: base64.b64encode(w).decode() for r, w in wrapped.items()},
            },
        )
        self._keys[category] = key
        self._ring[key_id(key)] = key
        for item, content in plain:  # the plaintext copies are replaced by ciphertext
            self.cloud.update(item, seal_item(key, category, content))
        return code

    def approve(self, device_id: str) -> dict[str, Any]:
        """Wrap every protected category's key to another device of the person (compare
        its fingerprint first: the same twelve digits on both screens)."""
        self._proven()
        other = next(d for d in self.devices() if d["device_id"] == device_id)
        public = X25519PublicKey.from_public_bytes(bytes.fromhex(other["public_key"]))
        wrapped = {
            name: base64.b64encode(wrap_key(self.key(name), name, public)).decode()
            for name in self.status()["protected"]
        }
        return dict(
            self.transport.request(
                "POST", f"/v1/cloud/devices/{device_id}/keys", json={"wrapped": wrapped}
            ).json()
        )

    def recover(self, code: str) -> dict[str, Any]:
        """Open the keys with the recovery key and wrap them to this device (a new device
        when every old one is lost)."""
        self.register()
        private = recovery_private_key(code)
        protected = self.status()["protected"]
        wrapped: dict[str, str] = {}
        proofs: dict[str, str] = {}
        for entry in self._wrapped(RECOVERY):
            name = entry["category"]
            key = unwrap_key(
                base64.b64decode(entry["wrapped_b64"]),
                name,
                private,
                bytes.fromhex(protected[name]["key_id"]),
            )
            self._keys[name] = key
            wrapped[name] = base64.b64encode(wrap_key(key, name, self.device.public_key)).decode()
            if entry.get("proof_sealed_b64"):
                sealed = base64.b64decode(entry["proof_sealed_b64"])
                proofs[name] = open_proof(sealed, private, recovery=True).hex()
            elif entry.get("key_proof_b64"):  # protected before 0018: see recovery_binding
                sealed = base64.b64decode(entry["key_proof_b64"])
                proofs[name] = open_key_proof(key, name, sealed).hex()
        body: dict[str, Any] = {"wrapped": wrapped, "recovery_proofs": proofs}
        if any(not p.get("recovery_public") for p in protected.values()):
            body["recovery_public"] = public_bytes(private.public_key()).hex()
        return dict(
            self.transport.request(
                "POST", f"/v1/cloud/devices/{self.device.device_id}/keys", json=body
            ).json()
        )

    def key(self, category: str) -> bytes:
        """
        The category key, unwrapped with this device's private key.

        Raises:
            LockedError: this device holds no key of the category (ask an approved device,
                or use the recovery key).
        """
        if category in self._keys:
            return self._keys[category]
        protected = self.status()["protected"]
        if category not in protected:
            raise LockedError(f"{category} is not under advanced protection")
        for entry in self._wrapped(self.device.device_id):
            if entry["category"] == category:
                key = unwrap_key(
                    base64.b64decode(entry["wrapped_b64"]),
                    category,
                    self.device.private_key,
                    bytes.fromhex(protected[category]["key_id"]),
                )
                self._keys[category] = key
                self._ring[key_id(key)] = key
                prepare_recovery(self, category, key, entry)
                previous = protected[category].get("previous_b64")
                for old in (
                    open_previous(key, category, base64.b64decode(previous or ""))
                    if (previous)
                    else []
                ):
                    self._ring[key_id(old)] = old
                return key
        raise LockedError(
            f"this device does not hold the key of {category}: approve it from a device that "
            "does, or use the recovery key"
        )

    # -- items ---------------------------------------------------------------------------

    def upload(self, category: str, content: bytes, *, name: str = "", path: str = "") -> Item:
        """A new item, encrypted here with its name and path (under the category's current
        key: if another device rotated it meanwhile, this device fetches the new one)."""
        try:
            return self.cloud.upload(
                category, seal_item(self.key(category), category, content, name=name, path=path)
            )
        except ApiError as refused:
            if refused.code != "e2e_required" or category not in self._keys:
                raise
            self._keys.pop(category)  # rotated elsewhere: look again
            return self.cloud.upload(
                category, seal_item(self.key(category), category, content, name=name, path=path)
            )

    def upload_batch(self, category: str, contents: list[tuple[str, bytes]]) -> list[Item]:
        """Many new items (name, content) at once, each encrypted here."""
        key = self.key(category)
        return self.cloud.upload_batch(
            category, [seal_item(key, category, c, name=n) for n, c in contents]
        )

    def update(self, item: Item, content: bytes, *, name: str = "", path: str = "") -> Item:
        """Replace an item's content (and name and path), encrypted here."""
        key = self.key(item.category)
        return self.cloud.update(item, seal_item(key, item.category, content, name=name, path=path))

    def download(self, item: Item) -> Opened:
        """An item (as a change described it), decrypted here: its name, path, content;
        under the category's current key or an earlier one (before a rotation)."""
        envelope = self.cloud.download(item.id)
        kid = envelope[3:ENVELOPE_HEAD]
        if kid not in self._ring:
            self._keys.pop(item.category, None)  # perhaps rotated since: look again
        current = self.key(item.category)
        return open_item(self._ring.get(kid, current), item.category, envelope)

    def share(self, item: Item, *, days: int = 7) -> str:
        """Share a photo of the protected gallery by link: stripped of its location and
        metadata here (:mod:`charter.photos`), sealed under a fresh photo key, uploaded as
        ciphertext only; the key is in the link's fragment, which never reaches a server.
        Returns the link (show it once)."""
        opened = self.download(item)
        stripped, report = strip_bytes(opened.content)
        photo_key = new_key()
        answer = self.transport.request(
            "POST",
            f"/v1/cloud/items/{item.id}/sealed-links",
            params={"days": days},
            content=seal_shared_photo(photo_key, report.media_type, stripped),
            headers={"Content-Type": "application/octet-stream"},
        ).json()
        fragment = base64.urlsafe_b64encode(photo_key).decode().rstrip("=")
        return f"{answer['url']}#k={fragment}"

    def web_unlocks(self) -> list[dict[str, Any]]:
        """Web sessions asking to open protected items (with the twelve digits their page
        shows: compare before approving)."""
        return list(self.transport.request("GET", "/v1/cloud/unlocks").json())

    def approve_web(self, unlock_id: str) -> dict[str, Any]:
        """Let a web session open protected items: every protected category's keys (the
        current one and earlier ones) wrapped to the session's ephemeral key."""
        self._proven()
        asked = next(u for u in self.web_unlocks() if u["id"] == unlock_id)
        browser = X25519PublicKey.from_public_bytes(bytes.fromhex(asked["public_key"]))
        wrapped: dict[str, list[str]] = {}
        for name, found in self.status()["protected"].items():
            key = self.key(name)
            previous = found.get("previous_b64")
            keys = [
                key,
                *(open_previous(key, name, base64.b64decode(previous)) if previous else []),
            ]
            wrapped[name] = [
                base64.b64encode(wrap_for_session(k, name, browser)).decode() for k in keys
            ]
        return dict(
            self.transport.request(
                "POST", f"/v1/cloud/unlocks/{unlock_id}", json={"wrapped": wrapped}
            ).json()
        )

    # -- key changes ---------------------------------------------------------------------

    def remove_device(self, device_id: str, *, recovery: str = "") -> list[str]:
        """Remove another device of the person (lost, sold), then give every category whose
        key it held a new key (:meth:`rotate_due`). Returns the categories rotated."""
        self._proven()
        self.transport.request("DELETE", f"/v1/cloud/devices/{device_id}")
        return self.rotate_due(recovery=recovery)

    def rotate_due(self, *, recovery: str = "") -> list[str]:
        """Rotate every category marked ``rotate`` (a device holding its key was removed,
        perhaps from the web)."""
        due = [n for n, p in self.status()["protected"].items() if p["state"] == "rotate"]
        for name in due:
            self.rotate(name, recovery=recovery)
        return due

    def rotate(self, category: str, *, recovery: str = "") -> None:
        """A new key for a category: wrapped to this device, every other approved device
        and the recovery key; the earlier keys sealed under it so old items still open
        here and on the other devices; the server deletes every other wrap. A category
        protected before 0018 needs its ``recovery`` key once (see
        :mod:`charter.client.recovery_binding`)."""
        self._proven()
        old = self.key(category)
        protected = self.status()["protected"][category]
        sealed = protected.get("previous_b64")
        earlier = [old, *(open_previous(old, category, base64.b64decode(sealed)) if sealed else [])]
        recovery_hex = recovery_public_for(self, category, protected, recovery)
        key = new_key()
        wrapped = {
            self.device.device_id: wrap_key(key, category, self.device.public_key),
            RECOVERY: wrap_key(
                key, category, X25519PublicKey.from_public_bytes(bytes.fromhex(recovery_hex))
            ),
        }
        for other in self.devices():
            if other["e2e"] == "approved" and other["device_id"] != self.device.device_id:
                public = X25519PublicKey.from_public_bytes(bytes.fromhex(other["public_key"]))
                wrapped[other["device_id"]] = wrap_key(key, category, public)
        self.transport.request(
            "POST",
            f"/v1/cloud/protection/{category}/rotate",
            json={
                "key_id": key_id(key).hex(),
                "wrapped": {r: base64.b64encode(w).decode() for r, w in wrapped.items()},
                "previous_b64": base64.b64encode(seal_previous(key, category, earlier)).decode(),
                "recovery_public": recovery_hex,
            },
        )
        self._keys[category] = key
        self._ring[key_id(key)] = key

    def unprotect(self, category: str) -> int:
        """Turn a category's protection off: every item (trashed ones too) is decrypted
        here and uploaded again as a standard, server-encrypted item, then the server
        deletes the wrapped keys. Returns how many items went back to standard."""
        self._proven()
        self.key(category)
        self.transport.request("POST", f"/v1/cloud/protection/{category}/leave")
        done = 0
        for item in list(self.cloud.all_changes()):
            if item.category != category or item.state not in ("live", "trashed"):
                continue
            live = self.cloud.restore(item.id) if item.state == "trashed" else item
            opened = self.download(live)
            updated = self.cloud.update(live, opened.content)
            if item.state == "trashed":
                self.cloud.delete(updated)
            done += 1
        self.transport.request("DELETE", f"/v1/cloud/protection/{category}")
        self._keys.pop(category, None)
        return done

    def _wrapped(self, recipient: str) -> list[dict[str, Any]]:
        answer = self.transport.request("GET", "/v1/cloud/keys", params={"recipient": recipient})
        return list(answer.json())
