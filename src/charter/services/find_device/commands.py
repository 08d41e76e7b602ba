"""
The command queue: the owner signs a command (locate, ring, lock, erase, lost mode on/off)
with a nonce and an expiry; the server checks what it can (signature, shape, expiry, the
device is the owner's, rate limits for locate), keeps the payload encrypted until the
device acknowledges it, and wakes a device that long-polls. The device checks the signature
again before acting (the server cannot forge a command: it has no owner key).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, insert, select, update

from charter.crypto.hashing import keyed_hash
from charter.errors import InputError, NotFoundError, RefusedError
from charter.services.account.errors import ThrottledError
from charter.services.find_device.common import SECOND, audit, device_row, new_id
from charter.services.find_device.tables import commands, devices, owners
from charter.services.find_device.wire import parse_command

if TYPE_CHECKING:
    from charter.gate import Gate

HOUR = 3600 * SECOND
OUTCOMES = ("done", "refused")


class RateLimitedError(ThrottledError):
    """Too many locate requests for this owner or device in the last hour."""

    code = "rate_limited"

    def __init__(self, scope: str, limit: int, retry_after: int) -> None:
        super().__init__(retry_after)
        self.message = f"at most {limit} locate requests per hour per {scope}; try again later"
        self.args = (self.message,)


@dataclass(frozen=True, slots=True)
class Command:
    """A queued command as the owner sees it."""

    id: str
    device_id: str
    kind: str
    actor: str
    created_at: int
    expires_at: int
    delivered_at: int | None
    acked_at: int | None
    outcome: str | None


def command_of(row: Any) -> Command:
    """A :class:`Command` from its row."""
    return Command(
        row.id,
        row.device_id,
        row.kind,
        row.actor,
        row.created_at,
        row.expires_at,
        row.delivered_at,
        row.acked_at,
        row.outcome,
    )


class Waiters:
    """In-process wake-ups for devices that long-poll (another process's devices poll)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version: dict[tuple[str, str], int] = {}

    def version(self, key: tuple[str, str]) -> int:
        with self._cond:
            return self._version.get(key, 0)

    def notify(self, key: tuple[str, str]) -> None:
        with self._cond:
            self._version[key] = self._version.get(key, 0) + 1
            self._cond.notify_all()

    def wait(self, key: tuple[str, str], seen: int, timeout: float) -> None:
        """Block until ``key`` moves past ``seen`` or ``timeout`` seconds pass."""
        with self._cond:
            self._cond.wait_for(lambda: self._version.get(key, 0) != seen, timeout)


class Commands:
    """Queue, deliver and acknowledge owner-signed commands."""

    def __init__(self, gate: Gate, *, per_owner_hour: int = 30, per_device_hour: int = 10) -> None:
        self.gate = gate
        self.hmac_key = gate.keyring.hmac_key
        self.per_owner_hour = per_owner_hour
        self.per_device_hour = per_device_hour
        self.waiters = Waiters()

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    def _aead(self, subject_id: str, command_id: str) -> tuple[AESGCM, bytes]:
        key = keyed_hash(self.hmac_key, command_id.encode(), context="find_device.command")
        return AESGCM(key), f"{subject_id}|{command_id}".encode()

    def _seal(self, subject_id: str, command_id: str, payload: bytes) -> bytes:
        import os  # noqa: PLC0415

        aead, aad = self._aead(subject_id, command_id)
        nonce = os.urandom(12)
        return nonce + aead.encrypt(nonce, payload, aad)

    def _open(self, subject_id: str, command_id: str, stored: bytes) -> bytes:
        aead, aad = self._aead(subject_id, command_id)
        return aead.decrypt(stored[:12], stored[12:], aad)

    def queue(
        self, subject_id: str, device_id: str, payload: bytes, signature: bytes, *, actor: str
    ) -> Command:
        """
        Queue an owner-signed command for one of the owner's devices.

        Raises:
            RefusedError: no owner key yet (``no_owner_key``), bad signature, expired, the
                payload names another device (``wrong_device``), the device is switched off
                (``service_off``), or a replayed nonce (``replayed``).
            RateLimitedError: too many locate requests.
            NotFoundError: no such device of this person.
        """
        now = self.gate.clock()
        with self.control.begin() as conn:
            owner = conn.execute(
                select(owners.c.sign_public).where(owners.c.subject_id == subject_id)
            ).scalar()
            if owner is None:
                raise RefusedError(
                    "set up your owner keys first (the Find Device page or "
                    "`charter find-device keygen`)",
                    code="no_owner_key",
                )
            body = parse_command(payload, signature, bytes(owner), now)
            if body.get("device") != device_id:
                raise RefusedError("the command is signed for another device", code="wrong_device")
            device = device_row(conn, subject_id, device_id)
            if device.state != "on":
                raise RefusedError("Find Device is switched off on this device", code="service_off")
            kind = body["cmd"]
            if kind == "locate":
                self._limit(conn, subject_id, device_id, now)
            seen = conn.execute(
                select(commands.c.id).where(
                    commands.c.subject_id == subject_id, commands.c.nonce == body["nonce"]
                )
            ).first()
            if seen is not None:
                raise RefusedError("this command was sent before (same nonce)", code="replayed")
            command_id = new_id("fc_")
            conn.execute(
                insert(commands).values(
                    subject_id=subject_id,
                    id=command_id,
                    device_id=device_id,
                    kind=kind,
                    nonce=body["nonce"],
                    payload=self._seal(subject_id, command_id, payload),
                    signature=signature,
                    actor=actor,
                    created_at=now,
                    expires_at=body["expires_at"],
                )
            )
            if kind == "lost_mode_on":
                interval = body.get("args", {}).get("interval_s", device.interval_s)
                if not isinstance(interval, int) or not 60 <= interval <= 86_400:
                    raise InputError("interval_s must be 60 to 86400 seconds", field="interval_s")
                conn.execute(
                    update(devices)
                    .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
                    .values(lost=True, lost_command=command_id, interval_s=interval)
                )
            row = conn.execute(
                select(commands).where(
                    commands.c.subject_id == subject_id, commands.c.id == command_id
                )
            ).one()
        audit(self.gate, subject_id, actor, "find_device_command", {"command": kind})
        self.waiters.notify((subject_id, device_id))
        return command_of(row)

    def _limit(self, conn: Any, subject_id: str, device_id: str, now: int) -> None:
        since = now - HOUR
        base = select(func.count()).where(
            commands.c.subject_id == subject_id,
            commands.c.kind == "locate",
            commands.c.created_at > since,
        )
        if conn.execute(base).scalar_one() >= self.per_owner_hour:
            raise RateLimitedError("account", self.per_owner_hour, 3600)
        per_device = base.where(commands.c.device_id == device_id)
        if conn.execute(per_device).scalar_one() >= self.per_device_hour:
            raise RateLimitedError("device", self.per_device_hour, 3600)

    def pending(self, subject_id: str, device_id: str) -> list[tuple[str, bytes, bytes]]:
        """The device's commands not yet acknowledged and not expired: (id, payload,
        signature); marks them delivered."""
        now = self.gate.clock()
        with self.control.begin() as conn:
            rows = conn.execute(
                select(commands.c.id, commands.c.payload, commands.c.signature)
                .where(
                    commands.c.subject_id == subject_id,
                    commands.c.device_id == device_id,
                    commands.c.acked_at.is_(None),
                    commands.c.expires_at > now,
                    commands.c.payload.is_not(None),
                )
                .order_by(commands.c.created_at)
                .limit(50)
            ).all()
            if rows:
                conn.execute(
                    update(commands)
                    .where(
                        commands.c.subject_id == subject_id,
                        commands.c.id.in_([r.id for r in rows]),
                        commands.c.delivered_at.is_(None),
                    )
                    .values(delivered_at=now)
                )
        return [
            (r.id, self._open(subject_id, r.id, bytes(r.payload)), bytes(r.signature)) for r in rows
        ]

    def wait_pending(
        self, subject_id: str, device_id: str, timeout: float
    ) -> list[tuple[str, bytes, bytes]]:
        """:meth:`pending`, waiting up to ``timeout`` seconds for one to arrive."""
        key = (subject_id, device_id)
        seen = self.waiters.version(key)
        found = self.pending(subject_id, device_id)
        if found or timeout <= 0:
            return found
        self.waiters.wait(key, seen, timeout)
        return self.pending(subject_id, device_id)

    def lost_command(self, subject_id: str, command_id: str | None) -> tuple[bytes, bytes] | None:
        """The signed lost-mode command a re-activated device restores its lock screen from."""
        if command_id is None:
            return None
        with self.control.connect() as conn:
            row = conn.execute(
                select(commands.c.payload, commands.c.signature).where(
                    commands.c.subject_id == subject_id, commands.c.id == command_id
                )
            ).first()
        if row is None or row.payload is None:
            return None
        return self._open(subject_id, command_id, bytes(row.payload)), bytes(row.signature)

    def ack(self, subject_id: str, device_id: str, command_id: str, outcome: str) -> Command:
        """
        Record the device's answer to a command (``done`` or ``refused:<reason>``); the
        payload is dropped, except a lost-mode command's while lost mode lasts.

        Raises:
            NotFoundError: no such command for this device.
            InputError: an unknown outcome.
        """
        if outcome.split(":", 1)[0] not in OUTCOMES or len(outcome) > 24:
            raise InputError("outcome is done or refused:<reason>", field="outcome")
        now = self.gate.clock()
        with self.control.begin() as conn:
            row = conn.execute(
                select(commands).where(
                    commands.c.subject_id == subject_id,
                    commands.c.id == command_id,
                    commands.c.device_id == device_id,
                )
            ).first()
            if row is None:
                raise NotFoundError("no such command for this device", field="command_id")
            keep = row.kind == "lost_mode_on" and outcome == "done"
            values: dict[str, Any] = {"acked_at": now, "outcome": outcome}
            if not keep:
                values.update(payload=None, signature=None)
            conn.execute(
                update(commands)
                .where(commands.c.subject_id == subject_id, commands.c.id == command_id)
                .values(**values)
            )
            if row.kind == "lost_mode_off" and outcome == "done":
                self._leave_lost_mode(conn, subject_id, device_id)
            if row.kind == "lost_mode_on" and outcome != "done":
                conn.execute(
                    update(devices)
                    .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
                    .values(lost=False, lost_command=None)
                )
            done = conn.execute(
                select(commands).where(
                    commands.c.subject_id == subject_id, commands.c.id == command_id
                )
            ).one()
        audit(
            self.gate,
            subject_id,
            "device",
            "find_device_ack",
            {"command": row.kind, "outcome": outcome.split(":", 1)[0]},
        )
        return command_of(done)

    def _leave_lost_mode(self, conn: Any, subject_id: str, device_id: str) -> None:
        conn.execute(
            update(commands)
            .where(
                commands.c.subject_id == subject_id,
                commands.c.device_id == device_id,
                commands.c.kind == "lost_mode_on",
            )
            .values(payload=None, signature=None)
        )
        conn.execute(
            update(devices)
            .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
            .values(lost=False, lost_command=None)
        )

    def history(self, subject_id: str, limit: int = 200) -> list[Command]:
        """The owner's commands, newest first."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(commands)
                .where(commands.c.subject_id == subject_id)
                .order_by(commands.c.created_at.desc())
                .limit(limit)
            ).all()
        return [command_of(r) for r in rows]
