"""
:class:`FindDevice`: the find-device service of a deployment, as the composition root builds
it: owner keys, activation and the binding (:mod:`.binding`), the command queue
(:mod:`.commands`), sealed reports (:mod:`.reports`) and the 30-day rule (:mod:`.purge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from charter.errors import InputError, RefusedError
from charter.gate import Event
from charter.services.find_device.binding import Activation, Bindings
from charter.services.find_device.commands import Commands
from charter.services.find_device.common import (
    AUTHORIZATION,
    SERVICE,
    Device,
    audit,
    device_of,
    device_row,
)
from charter.services.find_device.purge import purge_history
from charter.services.find_device.reports import Reports
from charter.services.find_device.tables import devices, owners
from charter.services.find_device.wire import KEY_BYTES
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate


@dataclass(frozen=True, slots=True)
class OwnerKeys:
    """An owner's public keys (and, for the web, the private keys wrapped)."""

    seal_public: bytes
    sign_public: bytes
    wrapped: bytes | None
    endorsement: bytes | None
    updated_at: int


class FindDevice:
    """Find Device for one deployment."""

    def __init__(
        self, gate: Gate, *, locate_per_owner_hour: int = 30, locate_per_device_hour: int = 10
    ) -> None:
        self.gate = gate
        self.clock = gate.clock
        self.bindings = Bindings(gate)
        self.commands = Commands(
            gate, per_owner_hour=locate_per_owner_hour, per_device_hour=locate_per_device_hour
        )
        self.reports = Reports(gate)

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    # -- owner keys --------------------------------------------------------------------------

    def set_owner_keys(
        self,
        subject_id: str,
        seal_public: bytes,
        sign_public: bytes,
        wrapped: bytes | None = None,
        endorsement: bytes | None = None,
    ) -> OwnerKeys:
        """
        Register (or replace) the owner's public keys. Replacing them makes the old history
        unreadable (only the old private key opens it); devices adopt new keys at once when
        the old signing key endorsed them, otherwise after a waiting period.

        Raises:
            InputError: a key of the wrong size, or a wrapped blob over 4 KiB.
        """
        for name, key in (("seal_public", seal_public), ("sign_public", sign_public)):
            if len(key) != KEY_BYTES:
                raise InputError(f"{name} must be a 32-byte raw public key", field=name)
        if wrapped is not None and not 32 <= len(wrapped) <= 4096:
            raise InputError("wrapped must be 32 bytes to 4 KiB", field="wrapped")
        now = self.clock()
        values = {
            "seal_public": seal_public,
            "sign_public": sign_public,
            "wrapped": wrapped,
            "endorsement": endorsement,
            "updated_at": now,
        }
        with self.control.begin() as conn:
            changed = conn.execute(
                update(owners).where(owners.c.subject_id == subject_id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(insert(owners).values(subject_id=subject_id, created_at=now, **values))
        audit(
            self.gate, subject_id, "subject", "find_device_owner_keys", {"replaced": bool(changed)}
        )
        found = self.owner_keys(subject_id)
        assert found is not None
        return found

    def owner_keys(self, subject_id: str) -> OwnerKeys | None:
        """The owner's keys, or None before they set them up."""
        with self.control.connect() as conn:
            row = conn.execute(select(owners).where(owners.c.subject_id == subject_id)).first()
        if row is None:
            return None
        return OwnerKeys(
            bytes(row.seal_public),
            bytes(row.sign_public),
            bytes(row.wrapped) if row.wrapped is not None else None,
            bytes(row.endorsement) if row.endorsement is not None else None,
            int(row.updated_at),
        )

    # -- devices -----------------------------------------------------------------------------

    def activate(
        self,
        subject_id: str,
        found: dict[str, str],
        device_key: bytes,
        *,
        phone_number: str | None = None,
    ) -> Activation:
        """
        Switch Find Device on for a device: record the authorization, bind the device by its
        identifiers (see :class:`~.binding.Bindings`), keep the phone number through the gate.

        Raises:
            RefusedError: no owner keys yet, or the device is bound to another account.
            InputError: bad identifiers or key.
        """
        if len(device_key) != KEY_BYTES:
            raise InputError("device_key must be a 32-byte Ed25519 public key", field="device_key")
        if self.owner_keys(subject_id) is None:
            raise RefusedError(
                "set up your owner keys before activating a device", code="no_owner_key"
            )
        activation = self.bindings.activate(subject_id, found, device_key, self.clock())
        self.gate.set_switches(
            subject_id,
            {AUTHORIZATION: True},
            source="device",
            actor="subject",
            skip_unchanged=True,
        )
        if phone_number:
            result = self.gate.collect(
                [
                    Event(
                        subject_id,
                        SERVICE,
                        "phone_number",
                        Purpose.APP_FUNCTIONALITY,
                        value=phone_number,
                        source="device",
                    )
                ],
                actor="service:find_device",
                service=SERVICE,
            )
            if not result.items[0].accepted:
                raise RefusedError(result.items[0].message, code=result.items[0].reason)
        audit(
            self.gate,
            subject_id,
            "device",
            "find_device_activated",
            {"reactivated": activation.reactivated},
        )
        return activation

    def devices(self, subject_id: str) -> list[Device]:
        """The owner's devices, bound first."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(devices)
                .where(devices.c.subject_id == subject_id)
                .order_by(devices.c.bound_at)
            ).all()
        return sorted((device_of(r) for r in rows), key=lambda d: d.state != "on")

    def device(self, subject_id: str, device_id: str) -> Device:
        """One of the owner's devices (:class:`~charter.errors.NotFoundError` otherwise)."""
        with self.control.connect() as conn:
            return device_of(device_row(conn, subject_id, device_id))

    def switch_off(self, subject_id: str, device_id: str, *, actor: str) -> Device:
        """
        Switch Find Device off for a device: its binding is released and its location
        history is destroyed once it has stayed off for 30 days. When no device is left on,
        the service's authorization is withdrawn too.

        Raises:
            RefusedError: ``lost_mode_on`` (rule ``off_requires_leaving_lost_mode``).
        """
        now = self.clock()
        with self.control.begin() as conn:
            row = device_row(conn, subject_id, device_id)
            if row.lost:
                raise RefusedError(
                    "lost mode is on for this device: leave lost mode before switching Find "
                    "Device off",
                    code="lost_mode_on",
                )
            if row.state == "on":
                self.bindings.release(conn, subject_id, device_id, now)
            still_on = conn.execute(
                select(devices.c.id).where(
                    devices.c.subject_id == subject_id, devices.c.state == "on"
                )
            ).first()
        if not still_on:
            self.gate.set_switches(
                subject_id, {AUTHORIZATION: False}, source="user", actor=actor, skip_unchanged=True
            )
        audit(self.gate, subject_id, actor, "find_device_off", {})
        return self.device(subject_id, device_id)

    def purge_history(self, *, batch: int = 1000) -> int:
        """Run the 30-day rule (see :mod:`.purge`); returns how many reports went."""
        return purge_history(self.gate, batch=batch)
