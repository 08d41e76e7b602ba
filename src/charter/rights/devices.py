"""
Commands for a person's devices: after a withdrawal (R4) or an account deletion (R5) every
device of the person is told to delete the data it keeps; until a device confirms, the
command is pending and shown by the API.

A person's devices are what enrolled as devices: the ones registered here (a device agent)
and the account's signed-in devices (the composition root passes them in as ``enrolled``).
A record's ``source`` is not a device: it may name a sign-in step ("login"), a service or
anything a collector wrote, and a command to it could never be confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from charter.errors import InputError, NotFoundError
from charter.rights import tables as rt
from charter.rights._common import new_id

if TYPE_CHECKING:
    from charter.gate import Gate

KINDS = ("delete_service_data", "delete_account_data", "clear_browser_history")
"""What a device can be asked to do."""


@dataclass(frozen=True, slots=True)
class DeviceCommand:
    """One command for one device."""

    id: str
    device_id: str
    kind: str
    service: str | None
    request_id: str | None
    created_at: int
    acked_at: int | None


def _command(r: Any) -> DeviceCommand:
    return DeviceCommand(
        r.id, r.device_id, r.kind, r.service, r.request_id, r.created_at, r.acked_at
    )


EnrolledDevices = Callable[[str], Iterable[str]]
"""The ids of a subject's devices enrolled elsewhere (the account's signed-in devices)."""


def _none_elsewhere(_subject_id: str) -> Iterable[str]:
    return ()


class DeviceCommands:
    """The device registry and command queue (control database)."""

    def __init__(self, gate: Gate, *, enrolled: EnrolledDevices | None = None) -> None:
        self.gate = gate
        self.enrolled = enrolled or _none_elsewhere

    def register(self, subject_id: str, device_id: str) -> None:
        """Register a device as belonging to a subject (idempotent)."""
        if not device_id or len(device_id) > 120:
            raise InputError("device id must be 1-120 characters", field="device_id")
        self.gate.subject(subject_id)
        d = rt.devices
        with self.gate.stores.control().begin() as conn:
            if (
                conn.execute(
                    select(d.c.device_id).where(
                        d.c.subject_id == subject_id, d.c.device_id == device_id
                    )
                ).first()
                is None
            ):
                conn.execute(
                    insert(d).values(
                        subject_id=subject_id,
                        device_id=device_id,
                        registered_at=self.gate.clock(),
                    )
                )

    def devices(self, subject_id: str) -> list[str]:
        """Every device of a subject: the ones registered here and those enrolled elsewhere
        (never record sources)."""
        d = rt.devices
        with self.gate.stores.control().connect() as conn:
            registered = set(
                conn.execute(select(d.c.device_id).where(d.c.subject_id == subject_id)).scalars()
            )
        return sorted(registered | set(self.enrolled(subject_id)))

    def queue(
        self,
        conn: Connection,
        *,
        subject_id: str,
        subject_ref: str,
        devices: list[str],
        kind: str,
        service: str | None = None,
        request_id: str | None = None,
    ) -> list[str]:
        """Queue one command per device inside the caller's control-database transaction."""
        now = self.gate.clock()
        ids = []
        for device in devices:
            cid = new_id("dc")
            conn.execute(
                insert(rt.device_commands).values(
                    id=cid,
                    subject_id=subject_id,
                    subject_ref=subject_ref,
                    device_id=device,
                    kind=kind,
                    service=service,
                    request_id=request_id,
                    created_at=now,
                )
            )
            ids.append(cid)
        return ids

    def send(
        self, subject_id: str, kind: str, service: str | None, exclude: Iterable[str] = ()
    ) -> list[str]:
        """
        Queue a command of ``kind`` to every device of the subject but those in ``exclude``
        (e.g. the one the person acted on), in its own transaction; returns the command ids.

        Raises:
            InputError: an unknown kind.
        """
        if kind not in KINDS:
            raise InputError(f"no device command {kind!r}; use one of: {', '.join(KINDS)}")
        skip = set(exclude)
        devices = [d for d in self.devices(subject_id) if d not in skip]
        if not devices:
            return []
        with self.gate.stores.control().begin() as conn:
            return self.queue(
                conn,
                subject_id=subject_id,
                subject_ref=self.gate.subject_ref(subject_id),
                devices=devices,
                kind=kind,
                service=service,
            )

    def pending(
        self, *, subject_id: str | None = None, device_id: str | None = None
    ) -> list[DeviceCommand]:
        """Commands not yet acknowledged, for a subject and/or one device, oldest first."""
        if subject_id is None and device_id is None:
            raise InputError("name a subject or a device", field="device_id")
        c = rt.device_commands
        query = select(c).where(c.c.acked_at.is_(None)).order_by(c.c.created_at, c.c.id)
        if subject_id is not None:
            query = query.where(c.c.subject_id == subject_id)
        if device_id is not None:
            query = query.where(c.c.device_id == device_id)
        with self.gate.stores.control().connect() as conn:
            return [_command(r) for r in conn.execute(query)]

    def ack(
        self, command_id: str, *, subject_id: str | None = None, device_id: str | None = None
    ) -> DeviceCommand:
        """
        A device confirms it executed a command (idempotent).

        Raises:
            NotFoundError: no such command for this subject or device.
        """
        c = rt.device_commands
        where = [c.c.id == command_id]
        if subject_id is not None:
            where.append(c.c.subject_id == subject_id)
        if device_id is not None:
            where.append(c.c.device_id == device_id)
        with self.gate.stores.control().begin() as conn:
            row = conn.execute(select(c).where(*where)).first()
            if row is None:
                raise NotFoundError("no such command", field="command_id")
            if row.acked_at is None:
                conn.execute(
                    update(c).where(c.c.id == command_id).values(acked_at=self.gate.clock())
                )
            row = conn.execute(select(c).where(c.c.id == command_id)).one()
        return _command(row)
