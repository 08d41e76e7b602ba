"""
A person's devices as the cloud knows them (``cloud_devices``): each device's X25519 public
key (for advanced protection, :mod:`.protection`) and its device-side sync settings:

- **per-device category switches**: a category switched off on one device stops that
  device's sync of it (the account-wide switch, :mod:`.switches`, stops every device's);
- **sync only on Wi-Fi**, which the device obeys and the server carries in its record;
- **gallery: chosen folders only**; the chosen folders' names are sealed by the device to its
  own key, so the server carries them without being able to read them (it keeps a count).

A device calls with its person's token and names itself in the ``Charter-Device`` header;
an upload of a category switched off on that device is refused (``sync_off_on_device``).
This is the cloud's own record of devices, not a general device registry.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import delete, insert, select, update

from charter.errors import InputError, NotFoundError, RefusedError
from charter.services.cloud.categories import CATEGORIES, category
from charter.services.cloud.switches import sync_settings
from charter.services.cloud.tables import devices, protection, wrapped_keys

if TYPE_CHECKING:
    from charter.services.cloud.sync import CloudSync

DEVICE_ID = re.compile(r"^dv_[0-9a-f]{32}$")
MAX_SEALED_FOLDERS = 16_384
PENDING, APPROVED = "pending", "approved"
ON, ROTATE, LEAVING = "on", "rotate", "leaving"
"""States of a protected category: on, a new key due (a device holding it was removed),
being turned off."""


@dataclass(frozen=True, slots=True)
class Device:
    """One device of a person."""

    device_id: str
    public_key: str
    e2e: str
    """``pending`` until a device holding the keys (or the recovery key) wraps them to it."""
    sync_off: tuple[str, ...]
    wifi_only: bool
    gallery_chosen: bool
    folders: bytes | None
    folder_count: int
    created_at: int
    updated_at: int


def device_of(row: Any) -> Device:
    """A :class:`Device` from a ``cloud_devices`` row."""
    return Device(
        row.device_id,
        row.public_key,
        row.e2e,
        tuple(c for c in row.sync_off.split(",") if c),
        bool(row.wifi_only),
        bool(row.gallery_chosen),
        bytes(row.folders) if row.folders is not None else None,
        int(row.folder_count),
        row.created_at,
        row.updated_at,
    )


def fingerprint(public_key: bytes) -> str:
    """Twelve digits a device's public key shows as, on the approving device and on the
    new one (the same function as :func:`charter.client.e2e.fingerprint`)."""
    digest = hashlib.sha256(b"charter.cloud.e2e.v1 fingerprint" + public_key).digest()
    text = f"{int.from_bytes(digest[:8], 'big') % 10**12:012d}"
    return " ".join(text[i : i + 3] for i in range(0, 12, 3))


def check_device_id(device_id: str) -> str:
    """
    Raises:
        InputError: not a device id a client makes (``dv_`` and 32 hex digits).
    """
    if not DEVICE_ID.match(device_id or ""):
        raise InputError("a device id is dv_ and 32 hex digits", field="device_id")
    return device_id


def check_public_key(public_key: str) -> str:
    """
    Raises:
        InputError: not a 32-byte X25519 public key in hex.
    """
    try:
        raw = bytes.fromhex(public_key)
        if len(raw) != 32 or raw == bytes(32):
            raise ValueError
        X25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InputError(
            "public_key is the device's X25519 public key: 64 hex digits", field="public_key"
        ) from None
    return public_key.lower()


class Devices:
    """The cloud's record of each person's devices."""

    def __init__(self, sync: CloudSync) -> None:
        self.sync = sync
        self.clock = sync.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    def register(self, subject_id: str, device_id: str, public_key: str) -> Device:
        """
        Record a device and its public key (again: nothing changes).

        Raises:
            InputError: a malformed id or key.
            RefusedError: the device is known with another key (``device_key_mismatch``).
        """
        check_device_id(device_id)
        key = check_public_key(public_key)
        now = self.clock()
        with self.control.begin() as conn:
            row = self._row(conn, subject_id, device_id)
            if row is None:
                conn.execute(
                    insert(devices).values(
                        subject_id=subject_id,
                        device_id=device_id,
                        public_key=key,
                        e2e=PENDING,
                        sync_off="",
                        wifi_only=False,
                        gallery_chosen=False,
                        folders=None,
                        folder_count=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif row.public_key != key:
                raise RefusedError(
                    "this device id is registered with another key; a reset device makes a "
                    "new id (remove the old one from your devices)",
                    code="device_key_mismatch",
                )
            row = self._row(conn, subject_id, device_id)
        return device_of(row)

    def all(self, subject_id: str) -> list[Device]:
        """The person's devices, oldest first."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(devices)
                .where(devices.c.subject_id == subject_id)
                .order_by(devices.c.created_at, devices.c.device_id)
            ).all()
        return [device_of(r) for r in rows]

    def get(self, subject_id: str, device_id: str) -> Device:
        """
        Raises:
            NotFoundError: no such device of this person.
        """
        with self.control.connect() as conn:
            row = self._row(conn, subject_id, device_id)
        if row is None:
            raise NotFoundError("no such device", field="device_id")
        return device_of(row)

    def configure(
        self,
        subject_id: str,
        device_id: str,
        *,
        sync_off: list[str] | None = None,
        wifi_only: bool | None = None,
        gallery_chosen: bool | None = None,
        folders: bytes | None = None,
        folder_count: int | None = None,
    ) -> Device:
        """
        Change a device's settings (what is None stays).

        Raises:
            NotFoundError: no such device.
            InputError: an unknown category, or sealed folders too large.
        """
        values: dict[str, Any] = {}
        if sync_off is not None:
            values["sync_off"] = ",".join(sorted({category(c).name for c in sync_off}))
        if wifi_only is not None:
            values["wifi_only"] = wifi_only
        if gallery_chosen is not None:
            values["gallery_chosen"] = gallery_chosen
        if folders is not None:
            if len(folders) > MAX_SEALED_FOLDERS:
                raise InputError("the sealed folder list is too large", field="folders")
            values["folders"] = folders
            values["folder_count"] = max(0, folder_count or 0)
        with self.control.begin() as conn:
            done = conn.execute(
                update(devices)
                .where(devices.c.subject_id == subject_id, devices.c.device_id == device_id)
                .values(updated_at=self.clock(), **values)
            ).rowcount
            row = self._row(conn, subject_id, device_id)
        if not done or row is None:
            raise NotFoundError("no such device", field="device_id")
        return device_of(row)

    def remove(self, subject_id: str, device_id: str) -> None:
        """
        Forget a device and every key wrapped to it (it can no longer open protected data
        it has not kept). The categories whose key it held are marked ``rotate``: a
        remaining device then makes them a new key (see :mod:`.keys`).

        Raises:
            NotFoundError: no such device.
        """
        with self.control.begin() as conn:
            held = [
                r.category
                for r in conn.execute(
                    select(wrapped_keys.c.category).where(
                        wrapped_keys.c.subject_id == subject_id,
                        wrapped_keys.c.recipient == device_id,
                    )
                ).all()
            ]
            if held:
                conn.execute(
                    update(protection)
                    .where(
                        protection.c.subject_id == subject_id,
                        protection.c.category.in_(held),
                        protection.c.state == ON,
                    )
                    .values(state=ROTATE)
                )
            conn.execute(
                delete(wrapped_keys).where(
                    wrapped_keys.c.subject_id == subject_id,
                    wrapped_keys.c.recipient == device_id,
                )
            )
            gone = conn.execute(
                delete(devices).where(
                    devices.c.subject_id == subject_id, devices.c.device_id == device_id
                )
            ).rowcount
        if not gone:
            raise NotFoundError("no such device", field="device_id")

    def effective(self, subject_id: str, device_id: str) -> dict[str, bool]:
        """Each category's sync on this device: on for the account and on the device."""
        account = sync_settings(self.sync, subject_id)
        off = set(self.get(subject_id, device_id).sync_off)
        return {name: account[name] and name not in off for name in CATEGORIES}

    def check_sync_on(self, subject_id: str, device_id: str, category_name: str) -> None:
        """
        A device not registered yet has no switches of its own.

        Raises:
            RefusedError: the category is switched off on this device.
        """
        with self.control.connect() as conn:
            row = self._row(conn, subject_id, device_id)
        if row is not None and category(category_name).name in device_of(row).sync_off:
            raise RefusedError(
                f"sync of {category_name} is switched off on this device; switch it on in "
                "the device's cloud settings to store its items",
                code="sync_off_on_device",
            )

    def _row(self, conn: Any, subject_id: str, device_id: str) -> Any:
        return conn.execute(
            select(devices).where(
                devices.c.subject_id == subject_id, devices.c.device_id == device_id
            )
        ).first()
