"""
Advanced protection (end-to-end), per account and per category: the server holds only
ciphertext it cannot open. The keys live on the person's devices (see
:mod:`charter.client.protection` for the device side and ``docs/cloud.md`` for the formats).

What the server keeps, and checks:

- ``cloud_protection``: which categories are protected, with the **id** of each category key
  (a commitment a device checks an unwrapped key against), never the key;
- ``cloud_e2e_keys``: the category key wrapped (HPKE, X25519) to each enrolled device's public
  key and to the recovery key; opaque to the server. A device is ``approved`` once it holds
  a wrap of every protected category: an approved device or the recovery key made it;
- contents of a protected category must be a version-1 envelope under the category's current
  key id; anything else is refused (``e2e_required``), so a device cannot upload plaintext
  by mistake. Item names and folder paths travel inside the envelope.

Consent, quotas, trash windows and erasure hold as before: the envelope is stored as a gate
record like any content. Erasing the account deletes the wrapped keys (crypto-shredding: no
device key, no recovery key, no content).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from charter.errors import InputError, RefusedError
from charter.services.cloud.categories import category
from charter.services.cloud.devices import (
    APPROVED,
    LEAVING,
    Device,
    Devices,
    check_device_id,
    check_public_key,
    device_of,
)
from charter.services.cloud.tables import devices, protection, wrapped_keys

if TYPE_CHECKING:
    from charter.services.cloud.sync import CloudSync

FORMAT = 1
ENVELOPE_MAGIC = b"CE\x01"
WRAP_MAGIC = b"CW\x01"
KEY_ID_BYTES = 16
WRAP_BYTES = len(WRAP_MAGIC) + KEY_ID_BYTES + 32 + 32 + 16
"""Magic, key id, HPKE encapsulated key (X25519), the sealed 32-byte key and its tag."""
MIN_ENVELOPE = len(ENVELOPE_MAGIC) + KEY_ID_BYTES + 12 + 4 + 16
RECOVERY = "recovery"

STATEMENT = (
    "Under advanced protection only your devices hold the keys to this data; we keep it "
    "encrypted and cannot open it. If you lose every device that holds the keys and your "
    "recovery key, nobody can read it again, not you and not us: it is lost for good. "
    "You can always delete it."
)
"""Said to the person before they opt in (the API returns it; the Privacy Center shows it)."""

_PROTECTED = select(protection).where(
    protection.c.subject_id == bindparam("subject"), protection.c.category == bindparam("category")
)
"""A person's protection of one category (built once: every upload asks)."""


@dataclass(frozen=True, slots=True)
class Protected:
    """A category under advanced protection."""

    category: str
    key_id: str
    format: int
    enabled_at: int
    recovery_public: str | None = None
    """The recovery key's public key (hex); a device wraps a new key to it."""
    state: str = "on"
    """``on``, ``rotate`` (a device holding the key was removed: a new key is due) or
    ``leaving`` (being turned off)."""
    previous: bytes | None = None
    """Earlier keys sealed under the current one (``CK 01``), opaque here."""
    key_proof: bytes | None = None
    """Protected before 0018: the key proof sealed under the key (``KP 01``), opaque here."""

    @property
    def recovery(self) -> str:
        """How the recovery key approves a new device: ``ready`` (its public key is known),
        ``key_proof`` (protected before 0018: a device sealed a key proof under the key) or
        ``preparing`` (protected before 0018: the next approved device that syncs does it)."""
        if self.recovery_public:
            return "ready"
        return "key_proof" if self.key_proof else "preparing"


def protected_of(r: Any) -> Protected:
    """A :class:`Protected` from a ``cloud_protection`` row."""
    return Protected(
        r.category,
        r.key_id,
        r.format,
        r.enabled_at,
        r.recovery_public,
        r.state,
        bytes(r.previous) if r.previous is not None else None,
        bytes(r.key_proof) if r.key_proof is not None else None,
    )


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A category key wrapped to one recipient."""

    category: str
    key_id: str
    wrapped: bytes


class Protection:
    """Advanced protection of one deployment."""

    def __init__(self, sync: CloudSync, devices: Devices) -> None:
        self.sync = sync
        self.devices = devices
        self.clock = sync.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    def status(self, subject_id: str) -> dict[str, Protected]:
        """The person's protected categories."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(protection).where(protection.c.subject_id == subject_id)
            ).all()
        return {r.category: protected_of(r) for r in rows}

    def categories(self, subject_id: str) -> frozenset[str]:
        """The names of the person's protected categories."""
        return frozenset(self.status(subject_id))

    def enable(
        self,
        subject_id: str,
        category_name: str,
        *,
        acknowledge_data_loss: bool,
        key_id: str,
        device_id: str,
        wrapped: dict[str, bytes],
        recovery_public: str,
    ) -> Protected:
        """
        Put a category under advanced protection, from an enrolled device that made its key:
        ``wrapped`` holds that key wrapped to the device itself, to ``recovery`` (whose
        public key is ``recovery_public``) and to every other approved device.

        Raises:
            InputError: the person did not acknowledge :data:`STATEMENT`, a malformed key id
                or wrap, or a wrap missing (the message names which).
            RefusedError: already protected (``already_protected``), or the device is not
                registered (``unknown_device``).
        """
        kind = category(category_name)
        if not acknowledge_data_loss:
            raise InputError(
                "advanced protection needs acknowledge_data_loss: true, after showing the "
                "person this: " + STATEMENT,
                field="acknowledge_data_loss",
            )
        check_device_id(device_id)
        recovery_public = check_public_key(recovery_public)
        key = key_id_of(key_id)
        now = self.clock()
        with self.control.begin() as conn:
            if self._protected(conn, subject_id, kind.name) is not None:
                raise RefusedError(
                    f"{kind.name} is already under advanced protection; approve new devices "
                    "from a device that holds its key",
                    code="already_protected",
                )
            known = {
                r.device_id: r
                for r in conn.execute(
                    select(devices).where(devices.c.subject_id == subject_id)
                ).all()
            }
            if device_id not in known:
                raise RefusedError(
                    "register this device's public key first (POST /v1/cloud/devices)",
                    code="unknown_device",
                )
            needed = {device_id, RECOVERY} | {d for d, r in known.items() if r.e2e == APPROVED}
            missing = sorted(needed - set(wrapped))
            if missing:
                raise InputError(
                    "wrap the new key to this device, to the recovery key and to every "
                    f"approved device; missing: {', '.join(missing)}",
                    field="wrapped",
                )
            extra = sorted(set(wrapped) - set(known) - {RECOVERY})
            if extra:
                raise InputError(
                    f"no such device of this account: {', '.join(extra)}", field="wrapped"
                )
            conn.execute(
                insert(protection).values(
                    subject_id=subject_id,
                    category=kind.name,
                    key_id=key,
                    format=FORMAT,
                    enabled_at=now,
                    recovery_public=recovery_public,
                    previous=None,
                    state="on",
                )
            )
            for recipient, blob in wrapped.items():
                self.put_wrap(conn, subject_id, kind.name, key, recipient, blob, now)
            self._settle(conn, subject_id)
        self.audit(subject_id, "cloud_protection", {"category": kind.name, "on": True})
        return Protected(kind.name, key, FORMAT, now, recovery_public)

    def keys_for(self, subject_id: str, recipient: str) -> list[WrappedKey]:
        """Every protected category's key wrapped to ``recipient`` (a device id or
        ``recovery``); what only that recipient's private key opens."""
        if recipient != RECOVERY:
            check_device_id(recipient)
        with self.control.connect() as conn:
            rows = conn.execute(
                select(wrapped_keys)
                .where(
                    wrapped_keys.c.subject_id == subject_id,
                    wrapped_keys.c.recipient == recipient,
                )
                .order_by(wrapped_keys.c.category)
            ).all()
        return [WrappedKey(r.category, r.key_id, bytes(r.wrapped)) for r in rows]

    def approve(self, subject_id: str, device_id: str, wrapped: dict[str, bytes]) -> Device:
        """
        Give a registered device the category keys, wrapped to its public key by a device
        that holds them (or by the new device itself after opening them with the recovery
        key). Once it holds every protected category's key it is ``approved``.

        Raises:
            InputError: a category not protected, or a malformed wrap.
            NotFoundError: no such device.
        """
        check_device_id(device_id)
        self.devices.get(subject_id, device_id)
        now = self.clock()
        with self.control.begin() as conn:
            for name, blob in wrapped.items():
                found = self._protected(conn, subject_id, category(name).name)
                if found is None:
                    raise InputError(f"{name} is not under advanced protection", field="wrapped")
                self.put_wrap(conn, subject_id, name, found.key_id, device_id, blob, now)
            self._settle(conn, subject_id)
            row = conn.execute(
                select(devices).where(
                    devices.c.subject_id == subject_id, devices.c.device_id == device_id
                )
            ).one()
        self.audit(subject_id, "cloud_device_keys", {"categories": len(wrapped)})
        return device_of(row)

    def check_contents(self, subject_id: str, category_name: str, contents: list[bytes]) -> None:
        """
        Raises:
            RefusedError: the category is protected and a content is not an envelope under
                its current key (``e2e_required``).
        """
        with self.control.connect().execution_options(readonly=True) as conn:
            found = self._protected(conn, subject_id, category_name)
        if found is None or found.state == LEAVING:
            return
        header = ENVELOPE_MAGIC + bytes.fromhex(found.key_id)
        for content in contents:
            if len(content) < MIN_ENVELOPE or not content.startswith(header):
                raise RefusedError(
                    f"{category_name} is under advanced protection: send it encrypted on the "
                    "device (envelope format 1 under the category's current key)",
                    code="e2e_required",
                )

    # -- parts -----------------------------------------------------------------------------

    def _protected(self, conn: Any, subject_id: str, name: str) -> Protected | None:
        r = conn.execute(_PROTECTED, {"subject": subject_id, "category": name}).first()
        return None if r is None else protected_of(r)

    def put_wrap(
        self,
        conn: Any,
        subject_id: str,
        name: str,
        key_id: str,
        recipient: str,
        blob: bytes,
        now: int,
    ) -> None:
        """Store (or replace) one recipient's wrap of a category's current key.

        Raises:
            InputError: not a format-1 wrap of that key.
        """
        if recipient != RECOVERY:
            check_device_id(recipient)
        if len(blob) != WRAP_BYTES or not blob.startswith(WRAP_MAGIC + bytes.fromhex(key_id)):
            raise InputError(
                f"the key of {name} for {recipient} is not a format-1 wrap of its current key",
                field="wrapped",
            )
        done = conn.execute(
            update(wrapped_keys)
            .where(
                wrapped_keys.c.subject_id == subject_id,
                wrapped_keys.c.category == name,
                wrapped_keys.c.recipient == recipient,
            )
            .values(key_id=key_id, wrapped=blob, created_at=now)
        ).rowcount
        if not done:
            conn.execute(
                insert(wrapped_keys).values(
                    subject_id=subject_id,
                    category=name,
                    recipient=recipient,
                    key_id=key_id,
                    wrapped=blob,
                    created_at=now,
                )
            )

    def _settle(self, conn: Any, subject_id: str) -> None:
        """Mark approved every device holding a wrap of every protected category."""
        protected = {
            r.category
            for r in conn.execute(
                select(protection.c.category).where(protection.c.subject_id == subject_id)
            ).all()
        }
        held: dict[str, set[str]] = {}
        for r in conn.execute(
            select(wrapped_keys.c.recipient, wrapped_keys.c.category).where(
                wrapped_keys.c.subject_id == subject_id
            )
        ).all():
            held.setdefault(r.recipient, set()).add(r.category)
        ready = [d for d, cats in held.items() if d != RECOVERY and cats >= protected]
        if ready:
            conn.execute(
                update(devices)
                .where(devices.c.subject_id == subject_id, devices.c.device_id.in_(ready))
                .values(e2e=APPROVED)
            )

    def audit(self, subject_id: str, action: str, detail: dict[str, Any]) -> None:
        """Record a key change in the person's audit log (the activity shows it)."""
        gate = self.sync.gate
        with gate.stores.region(gate.subject(subject_id).region).begin() as conn:
            gate.journal.record(conn, "subject", action, subject_id, {"service": "cloud", **detail})


def key_id_of(key_id: str) -> str:
    """
    Raises:
        InputError: not a key id (32 hex digits).
    """
    try:
        raw = bytes.fromhex(key_id)
    except ValueError:
        raw = b""
    if len(raw) != KEY_ID_BYTES:
        raise InputError("key_id is 32 hex digits (the key's id, never the key)", field="key_id")
    return raw.hex()
