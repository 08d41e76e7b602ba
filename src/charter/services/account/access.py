"""
Using a first-party session: authenticating its access token, refreshing it, logging out,
and stepping it up with the password (and a TOTP code) for sensitive operations.
"""

from __future__ import annotations

from sqlalchemy import select, update

from charter.errors import AuthError
from charter.services.account.common import password_matches
from charter.services.account.context import ACTIVE, PENDING, AccountContext
from charter.services.account.errors import invalid_credentials
from charter.services.account.factors import check_totp
from charter.services.account.sessions import SessionInfo, TokenPair
from charter.services.account.tables import accounts


class SessionAccess:
    """Access tokens, refresh, logout and re-authentication of first-party sessions."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

    def authenticate(self, access_token: str) -> SessionInfo:
        """The first-party session of an access token (raises ``AuthError``)."""
        info = self.context.tokens.authenticate(access_token, kind="account")
        self._require_usable(info.subject_id)
        return info

    def session(
        self, session_id: str, *, subject_id: str, touch_after: int | None = None
    ) -> SessionInfo:
        """A live first-party session of ``subject_id`` by id, of an active or pending
        account (raises ``AuthError``); see :meth:`TokenStore.session`."""
        info = self.context.tokens.session(
            session_id, subject_id=subject_id, touch_after=touch_after
        )
        self._require_usable(info.subject_id)
        return info

    def _require_usable(self, subject_id: str) -> None:
        """Refuse the token (``AuthError``) unless the account is active or pending."""
        with self.context.control.connect().execution_options(readonly=True) as conn:
            status = conn.execute(
                select(accounts.c.status).where(accounts.c.subject_id == subject_id)
            ).scalar()
        if status not in (ACTIVE, PENDING):
            raise AuthError("the access token is invalid or expired", code="invalid_token")

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a first-party refresh token (reuse revokes the session)."""
        with self.context.control.begin() as conn:
            result = self.context.tokens.rotate(conn, refresh_token, self.context.limits)
        if isinstance(result, AuthError):
            raise result
        return result

    def logout(self, session: SessionInfo) -> None:
        """End a session at once."""
        with self.context.control.begin() as conn:
            self.context.tokens.revoke(
                conn, session.session_id, why="logout", subject_id=session.subject_id
            )

    def reauthenticate(
        self, session: SessionInfo, password: str, totp_code: str | None = None
    ) -> None:
        """
        Step up a session with the password (and a TOTP code when 2-step verification is on).

        Raises:
            AuthError: wrong password or code.
        """
        ctx = self.context
        subject_id = session.subject_id
        ok = password_matches(ctx, subject_id, password)
        now = ctx.clock()
        with ctx.control.begin() as conn:
            two_step = conn.execute(
                select(accounts.c.two_step).where(accounts.c.subject_id == subject_id)
            ).scalar()
            if ok and two_step:
                ok = totp_code is not None and check_totp(ctx, conn, subject_id, totp_code, now)
            if ok:
                ctx.tokens.touch_auth(conn, session.session_id, subject_id=subject_id)
            else:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.subject_id == subject_id)
                    .values(failures=accounts.c.failures + 1)
                )
        if not ok:
            raise invalid_credentials()
