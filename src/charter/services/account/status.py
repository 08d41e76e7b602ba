"""
Account states: freezing, blocking and unblocking (every session ends when an account stops
being usable), the move between states they share, and reading an account's state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from charter.errors import NotFoundError, RefusedError
from charter.services.account.context import ACTIVE, BLOCKED, FROZEN, PENDING, AccountContext
from charter.services.account.tables import accounts


class AccountStates:
    """The state of accounts: active, pending, frozen or blocked."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

    def freeze(self, subject_id: str, *, actor: str) -> None:
        """Freeze an account (e.g. a lost phone): sign-in refused, every session ended."""
        self.set_status(subject_id, FROZEN, expect=(ACTIVE, PENDING), actor=actor)

    def block(self, subject_id: str, *, actor: str) -> None:
        """Block an account (security or abuse): sign-in refused, every session ended."""
        self.set_status(subject_id, BLOCKED, expect=(ACTIVE, PENDING, FROZEN), actor=actor)

    def unblock(self, subject_id: str, *, actor: str) -> None:
        """Lift a block."""
        self.set_status(subject_id, ACTIVE, expect=(BLOCKED,), actor=actor)

    def set_status(
        self, subject_id: str, status: str, *, expect: tuple[str, ...], actor: str
    ) -> None:
        """
        Move an account between states, ending every session and grant when it stops being usable.

        Raises:
            NotFoundError: no such account.
            RefusedError: the account is not in one of the ``expect`` states.
        """
        ctx = self.context
        now = ctx.clock()
        with ctx.control.begin() as conn:
            current = conn.execute(
                select(accounts.c.status).where(accounts.c.subject_id == subject_id)
            ).scalar()
            if current is None:
                raise NotFoundError("no such account", field="account_id")
            if current not in expect:
                raise RefusedError(f"the account is {current}", code=f"account_{current}")
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == subject_id)
                .values(status=status, updated_at=now, failures=0, locked_at=None)
            )
            if status in (FROZEN, BLOCKED):
                ctx.tokens.revoke_where(conn, subject_id=subject_id, why=status)
        ctx.gate.audit_admin(
            actor if actor.startswith(("admin", "subject", "service")) else "admin",
            "account_status",
            {"status": status},
        )

    def status(self, subject_id: str) -> dict[str, Any]:
        """The account's state (status, 2-step verification, lock)."""
        with self.context.control.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.subject_id == subject_id)).first()
        if row is None:
            raise NotFoundError("no such account", field="account_id")
        return {
            "account_id": subject_id,
            "status": row.status,
            "two_step": bool(row.two_step),
            "locked": row.locked_at is not None,
        }
