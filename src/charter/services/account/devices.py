"""
Manage devices: the account's devices and live sessions, signing one out, and the sign-ins
from new devices waiting for this account's approval.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from charter.errors import NotFoundError
from charter.services.account import challenges
from charter.services.account.context import AccountContext
from charter.services.account.tables import devices


class Devices:
    """Devices, sessions and pending approvals of an account."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

    def device_ids(self, subject_id: str) -> list[str]:
        """The ids of the account's enrolled (not removed) devices, oldest first."""
        with self.context.control.connect().execution_options(readonly=True) as conn:
            return list(
                conn.execute(
                    select(devices.c.id)
                    .where(devices.c.subject_id == subject_id, devices.c.removed_at.is_(None))
                    .order_by(devices.c.created_at)
                ).scalars()
            )

    def devices(self, subject_id: str) -> list[dict[str, Any]]:
        """Devices of the account with their model and whether a session is live on them."""
        ctx = self.context
        live = {s["device_id"] for s in ctx.tokens.live_sessions(subject_id, "account")}
        models = {r.source: r.value for r in ctx.records.read(subject_id, "device_model")}
        with ctx.control.connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(devices)
                .where(devices.c.subject_id == subject_id, devices.c.removed_at.is_(None))
                .order_by(devices.c.created_at)
            ).all()
        return [
            {
                "id": r.id,
                "model": models.get(f"device:{r.id}"),
                "trusted": bool(r.trusted),
                "signed_in": r.id in live,
                "first_seen_at": r.created_at,
                "last_seen_at": r.last_seen_at,
            }
            for r in rows
        ]

    def remove_device(self, subject_id: str, device_id: str) -> None:
        """
        Sign a device out and forget it (its model and hashed id are deleted).

        Raises:
            NotFoundError: no such device of this account.
        """
        ctx = self.context
        now = ctx.clock()
        with ctx.control.begin() as conn:
            done = conn.execute(
                update(devices)
                .where(
                    devices.c.id == device_id,
                    devices.c.subject_id == subject_id,
                    devices.c.removed_at.is_(None),
                )
                .values(removed_at=now, trusted=False)
            ).rowcount
            if not done:
                raise NotFoundError("no such device", field="device_id")
            ctx.tokens.revoke_where(
                conn,
                subject_id=subject_id,
                kind="account",
                device_id=device_id,
                why="device_removed",
            )
        source = f"device:{device_id}"
        ids = [r.id for r in ctx.records.read(subject_id) if r.source == source]
        ctx.records.delete(subject_id, ids, why="device_removed")

    def sessions(self, subject_id: str) -> list[dict[str, Any]]:
        """Live first-party sessions (Manage devices)."""
        return [
            {
                "id": s["id"],
                "device_id": s["device_id"],
                "created_at": s["created_at"],
                "last_used_at": s["last_used_at"],
                "expires_at": s["expires_at"],
            }
            for s in self.context.tokens.live_sessions(subject_id, "account")
        ]

    def end_session(self, subject_id: str, session_id: str) -> None:
        """
        Sign out one session of the account.

        Raises:
            NotFoundError: no such live session of this account.
        """
        ctx = self.context
        if not any(s["id"] == session_id for s in ctx.tokens.live_sessions(subject_id, "account")):
            raise NotFoundError("no such session", field="session_id")
        with ctx.control.begin() as conn:
            ctx.tokens.revoke(conn, session_id, why="signed_out", subject_id=subject_id)

    def pending_approvals(self, subject_id: str) -> list[dict[str, Any]]:
        """Sign-ins waiting for this account's approval."""
        with self.context.control.connect().execution_options(readonly=True) as conn:
            return challenges.pending_approvals(conn, subject_id, self.context.clock())

    def decide_approval(self, subject_id: str, challenge_id: str, approve: bool) -> None:
        """
        Approve or deny a pending sign-in from another device.

        Raises:
            NotFoundError: no such pending sign-in of this account.
        """
        with self.context.control.begin() as conn:
            if not challenges.decide(conn, challenge_id, subject_id, approve, self.context.clock()):
                raise NotFoundError("no such pending sign-in", field="challenge_id")
