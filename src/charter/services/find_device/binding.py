"""
Activation and the binding: a device is bound to an account by keyed hashes of the
identifiers the catalog lists (MAC address, device ID, FID). The server signs a binding
record and checks it at every activation, so the binding outlives a remote erase and a
factory reset (the device comes back with new keys, the hashes are the same) and a device
bound to one account cannot be activated for another until its owner releases it
(switches it off, which lost mode forbids).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from charter.crypto.hashing import keyed_hash
from charter.errors import AuthError, InputError, RefusedError
from charter.services.find_device.common import (
    DEFAULT_INTERVAL_S,
    Device,
    device_of,
    device_row,
    new_id,
)
from charter.services.find_device.tables import devices, identifiers
from charter.services.find_device.wire import binding_key, binding_record, verify

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from charter.gate import Gate

IDENTIFIER_KINDS = ("mac_address", "device_id", "fid")
"""The catalog's device identifiers a binding is keyed by (``initialization`` function)."""
TOKEN_PREFIX = "fdt"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True, slots=True)
class Activation:
    """What an activation gives the device."""

    device: Device
    token: str
    reactivated: bool


def identifier_hashes(hmac_key: bytes, found: dict[str, str]) -> dict[str, str]:
    """
    The keyed hashes of a device's identifiers.

    Raises:
        InputError: an unknown identifier kind, an empty value, or no ``device_id``.
    """
    unknown = sorted(set(found) - set(IDENTIFIER_KINDS))
    if unknown:
        raise InputError(
            f"unknown identifier {unknown[0]!r}; use: {', '.join(IDENTIFIER_KINDS)}",
            field="identifiers",
        )
    if not found.get("device_id"):
        raise InputError("identifiers.device_id is required", field="identifiers.device_id")
    out = {}
    for kind, value in found.items():
        if not isinstance(value, str) or not 1 <= len(value) <= 200:
            raise InputError(f"identifiers.{kind} must be 1 to 200 characters", field=kind)
        text = value.strip().lower() if kind == "mac_address" else value.strip()
        out[kind] = keyed_hash(hmac_key, text.encode(), context=f"find_device.{kind}").hex()
    return out


def token_hash(hmac_key: bytes, secret: str) -> str:
    """The keyed hash a device token is stored as."""
    return keyed_hash(hmac_key, secret.encode(), context="find_device.token").hex()


class Bindings:
    """Activation, re-activation, release and device authentication."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.hmac_key = gate.keyring.hmac_key
        self.signer = binding_key(self.hmac_key)
        self.verifier = self.signer.public_key().public_bytes_raw()

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    def activate(
        self, subject_id: str, found: dict[str, str], device_key: bytes, now: int
    ) -> Activation:
        """
        Bind a device to ``subject_id`` (or take back its binding after an erase or reset).

        Raises:
            RefusedError: ``bound_to_another_account`` (the owner has not released it) or
                ``binding_invalid`` (a stored binding record fails its signature check).
        """
        hashes = identifier_hashes(self.hmac_key, found)
        secret = secrets.token_urlsafe(32)
        with self.control.begin() as conn:
            rows = conn.execute(
                select(identifiers).where(identifiers.c.id_hash.in_(list(hashes.values())))
            ).all()
            for row in rows:
                if row.active:
                    self._check_record(conn, row.subject_id, row.device_id, row.id_hash)
                if row.active and row.subject_id != subject_id:
                    raise RefusedError(
                        "this device is bound to another account; its owner must release it "
                        "(switch Find Device off for it) before it can be activated again",
                        code="bound_to_another_account",
                    )
            own = sorted({r.device_id for r in rows if r.subject_id == subject_id})
            if own:
                device_id = own[-1]
                conn.execute(
                    update(devices)
                    .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
                    .values(
                        device_key=device_key,
                        token_hash=token_hash(self.hmac_key, secret),
                        state="on",
                        off_since=None,
                        activations=devices.c.activations + 1,
                        last_seen=now,
                    )
                )
                self._bind_identifiers(conn, subject_id, device_id, hashes, now, renew=True)
                row = device_row(conn, subject_id, device_id)
            else:
                device_id = new_id("fd_")
                record = binding_record(subject_id, device_id, list(hashes.values()), now)
                conn.execute(
                    insert(devices).values(
                        subject_id=subject_id,
                        id=device_id,
                        device_key=device_key,
                        token_hash=token_hash(self.hmac_key, secret),
                        state="on",
                        lost=False,
                        interval_s=DEFAULT_INTERVAL_S,
                        binding=record,
                        binding_sig=self.signer.sign(record),
                        bound_at=now,
                        activations=1,
                        last_seen=now,
                    )
                )
                self._bind_identifiers(conn, subject_id, device_id, hashes, now, renew=False)
                row = device_row(conn, subject_id, device_id)
        token = f"{TOKEN_PREFIX}.{subject_id}.{device_id}.{secret}"
        return Activation(device_of(row), token, bool(own))

    def _bind_identifiers(
        self,
        conn: Connection,
        subject_id: str,
        device_id: str,
        hashes: dict[str, str],
        now: int,
        *,
        renew: bool,
    ) -> None:
        conn.execute(
            identifiers.delete().where(
                identifiers.c.subject_id == subject_id, identifiers.c.device_id == device_id
            )
        )
        conn.execute(
            insert(identifiers),
            [
                {
                    "subject_id": subject_id,
                    "device_id": device_id,
                    "kind": kind,
                    "id_hash": value,
                    "active": True,
                }
                for kind, value in hashes.items()
            ],
        )
        if renew:
            record = binding_record(subject_id, device_id, list(hashes.values()), now)
            conn.execute(
                update(devices)
                .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
                .values(binding=record, binding_sig=self.signer.sign(record), bound_at=now)
            )

    def _check_record(
        self, conn: Connection, subject_id: str, device_id: str, id_hash: str
    ) -> None:
        row = device_row(conn, subject_id, device_id)
        record = bytes(row.binding)
        ok = verify(self.verifier, bytes(row.binding_sig), record)
        if ok:
            ok = (
                f'"subject":"{subject_id}"'.encode() in record
                and f'"device":"{device_id}"'.encode() in record
                and id_hash.encode() in record
            )
        if not ok:
            raise RefusedError(
                "the device's binding record does not verify; activation is refused until "
                "staff restore it",
                code="binding_invalid",
            )

    def release(self, conn: Connection, subject_id: str, device_id: str, now: int) -> None:
        """End a device's binding (inside the caller's transaction, after the lost check)."""
        conn.execute(
            update(identifiers)
            .where(identifiers.c.subject_id == subject_id, identifiers.c.device_id == device_id)
            .values(active=False)
        )
        conn.execute(
            update(devices)
            .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
            .values(state="off", off_since=now)
        )

    def authenticate(self, token: str) -> tuple[str, str]:
        """
        The (subject, device) of a device token.

        Raises:
            AuthError: malformed, unknown, or replaced by a later activation.
        """
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
            raise AuthError(
                "send the device token: Authorization: Bearer fdt.<...>", code="invalid_token"
            )
        _, subject_id, device_id, secret = parts
        with self.control.connect() as conn:
            stored = conn.execute(
                select(devices.c.token_hash).where(
                    devices.c.subject_id == subject_id, devices.c.id == device_id
                )
            ).scalar()
        if stored is None or not hmac.compare_digest(stored, token_hash(self.hmac_key, secret)):
            raise AuthError(
                "unknown or replaced device token; activate again", code="invalid_token"
            )
        return subject_id, device_id
