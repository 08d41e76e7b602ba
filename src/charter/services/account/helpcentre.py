"""
The help centre and passwords: actions started with a code sent to the identifier (password
reset, unfreeze), and the password change from a fresh session, which shares the reset's
policy check and storage.
"""

from __future__ import annotations

from sqlalchemy import select, update

from charter.errors import AuthError, InputError
from charter.services.account import challenges, keys, passwords
from charter.services.account.common import (
    password_matches,
    require_fresh,
    store_password,
)
from charter.services.account.context import ACTIVE, FROZEN, AccountContext
from charter.services.account.errors import invalid_credentials
from charter.services.account.identifiers import parse_identifier
from charter.services.account.sessions import SessionInfo
from charter.services.account.status import AccountStates
from charter.services.account.tables import accounts, identifiers


class HelpCentre:
    """Password reset, unfreezing with a code, and the password change."""

    def __init__(self, context: AccountContext, states: AccountStates) -> None:
        self.context = context
        self.states = states

    def request_help(self, identifier: str, action: str) -> str:
        """
        Start a help-centre action (``reset``, ``unfreeze``) for an identifier: a code goes to
        it when it belongs to an account; the answer is the same either way.

        Raises:
            InputError: malformed identifier or unknown action.
        """
        ctx = self.context
        if action not in ("reset", "unfreeze"):
            raise InputError("action is reset or unfreeze", field="action")
        ident = parse_identifier(identifier)
        lookup = keys.lookup(ctx.keyring, ident.kind, ident.value)
        now = ctx.clock()
        with ctx.control.begin() as conn:
            subject_id = conn.execute(
                select(identifiers.c.subject_id).where(identifiers.c.lookup == lookup)
            ).scalar()
            challenge_id, code = challenges.create(
                conn, ctx.keyring, subject_id=subject_id, purpose=action, now=now, with_code=True
            )
        if subject_id is not None and code is not None:
            ctx.sender.send(ident, code, purpose=action)
        return challenge_id

    def reset_password(self, challenge_id: str, code: str, new_password: str) -> None:
        """
        Set a new password with a reset code: unlocks the account and signs out everywhere.

        Raises:
            AuthError: wrong or expired code.
            InputError: the new password breaks the policy.
        """
        ctx = self.context
        subject_id = self._finish_help(challenge_id, "reset", code)
        self._set_password(subject_id, new_password, why="reset")
        with ctx.control.begin() as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == subject_id)
                .values(failures=0, locked_at=None, password_changed_at=ctx.clock())
            )
            ctx.tokens.revoke_where(conn, subject_id=subject_id, why="password_reset")

    def change_password(self, session: SessionInfo, new_password: str) -> None:
        """
        Change the password from a fresh session; other sessions are signed out.

        Raises:
            StepUpRequiredError: the session is not fresh.
            InputError: the new password breaks the policy.
        """
        ctx = self.context
        require_fresh(ctx, session)
        self._set_password(session.subject_id, new_password, why="change")
        with ctx.control.begin() as conn:
            ctx.tokens.revoke_where(
                conn, subject_id=session.subject_id, why="password_change", keep=session.session_id
            )

    def unfreeze(self, challenge_id: str, code: str, password: str) -> None:
        """
        Unfreeze an account with a code sent to it and its password.

        Raises:
            AuthError: wrong code or password.
        """
        subject_id = self._finish_help(challenge_id, "unfreeze", code)
        if not password_matches(self.context, subject_id, password):
            raise invalid_credentials()
        self.states.set_status(subject_id, ACTIVE, expect=(FROZEN,), actor="subject")

    def _set_password(self, subject_id: str, new_password: str, *, why: str) -> None:
        """
        Store a new password after the policy check (at least 8 characters with 2-step
        verification on, else 15).

        Raises:
            InputError: the new password breaks the policy.
        """
        with self.context.control.connect() as conn:
            two_step = bool(
                conn.execute(
                    select(accounts.c.two_step).where(accounts.c.subject_id == subject_id)
                ).scalar()
            )
        pw = passwords.check_policy(new_password, single_factor=not two_step)
        store_password(self.context, subject_id, pw, why=why)

    def _finish_help(self, challenge_id: str, purpose: str, code: str) -> str:
        """
        Spend a help-centre challenge with its code; returns the account it is for.

        Raises:
            AuthError: wrong, expired or used code, or no account (one message).
        """
        ctx = self.context
        now = ctx.clock()
        with ctx.control.begin() as conn:
            challenge = challenges.load(conn, challenge_id, purpose=purpose, now=now)
            ok = challenges.code_matches(ctx.keyring, conn, challenge, code) and challenges.finish(
                conn, challenge.id
            )
        if not ok or challenge.subject_id is None:
            raise AuthError("the code is wrong or has expired", code="invalid_code")
        return challenge.subject_id
