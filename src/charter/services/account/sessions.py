"""
Sessions and tokens: short-lived access tokens and rotating refresh tokens, one family per
session (a first-party sign-in, or one OAuth client's grant).

Tokens are 256 random bits, stored as keyed hashes. A refresh token is spent atomically when
used and replaced by a new pair; presenting a spent one again revokes its whole family
(someone copied it). Sessions die on revocation, after ``idle`` without refresh, and at their
absolute limit, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Engine, and_, insert, select, update

from charter.crypto import Keyring
from charter.errors import AuthError
from charter.services.account import keys
from charter.services.account.tables import sessions, tokens

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Lifetimes in seconds."""

    access: int = 600
    refresh: int = 3600
    idle: int = 3600
    absolute: int = 24 * 3600


ACCOUNT_LIMITS = Limits()
"""First-party sessions: 10-minute access tokens, 1 h idle, 24 h absolute (ASVS 7.3)."""

OAUTH_LIMITS = Limits(access=600, refresh=14 * 86400, idle=14 * 86400, absolute=30 * 86400)
"""OAuth grant families: 10-minute access tokens, 14-day idle, 30-day absolute."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    """Freshly issued tokens (shown once)."""

    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a valid access token stands for."""

    session_id: str
    subject_id: str
    kind: str
    device_id: str | None
    client_id: str | None
    scope: str | None
    auth_time: int


class TokenStore:
    """Issue, check, rotate and revoke tokens in the control database."""

    def __init__(
        self, engine_of: Callable[[], Engine], keyring: Keyring, clock: Callable[[], int]
    ) -> None:
        self._engine_of = engine_of
        self.keyring = keyring
        self.clock = clock

    @property
    def engine(self) -> Engine:
        """The control database."""
        return self._engine_of()

    def open_session(
        self,
        conn: Connection,
        *,
        subject_id: str,
        kind: str,
        limits: Limits,
        device_id: str | None = None,
        client_id: str | None = None,
        scope: str | None = None,
        auth_time: int | None = None,
    ) -> TokenPair:
        """Start a session (token family) and issue its first pair."""
        session_id = self.create_family(
            conn,
            subject_id=subject_id,
            kind=kind,
            limits=limits,
            device_id=device_id,
            client_id=client_id,
            scope=scope,
            auth_time=auth_time,
        )
        return self.add_pair(conn, session_id, keys.new_token("at"), keys.new_token("rt"), limits)

    def create_family(
        self,
        conn: Connection,
        *,
        subject_id: str,
        kind: str,
        limits: Limits,
        device_id: str | None = None,
        client_id: str | None = None,
        scope: str | None = None,
        auth_time: int | None = None,
    ) -> str:
        """Start a session (token family) without tokens yet; returns its id."""
        now = self.clock()
        session_id = keys.new_id("ss_")
        conn.execute(
            insert(sessions).values(
                id=session_id,
                subject_id=subject_id,
                kind=kind,
                device_id=device_id,
                client_id=client_id,
                scope=scope,
                created_at=now,
                last_used_at=now,
                expires_at=now + limits.absolute * MICROS,
                idle_micros=limits.idle * MICROS,
                auth_time=auth_time or now,
            )
        )
        return session_id

    def add_pair(
        self, conn: Connection, session_id: str, access: str, refresh: str | None, limits: Limits
    ) -> TokenPair:
        """Store a freshly generated access (and refresh) token in a family."""
        now = self.clock()
        session_end = conn.execute(
            select(sessions.c.expires_at).where(sessions.c.id == session_id)
        ).scalar_one()
        rows = [
            {
                "hash": keys.token_hash(self.keyring, access),
                "session_id": session_id,
                "kind": "access",
                "issued_at": now,
                "expires_at": min(now + limits.access * MICROS, session_end),
                "used_at": None,
            }
        ]
        if refresh is not None:
            rows.append(
                {
                    "hash": keys.token_hash(self.keyring, refresh),
                    "session_id": session_id,
                    "kind": "refresh",
                    "issued_at": now,
                    "expires_at": min(now + limits.refresh * MICROS, session_end),
                    "used_at": None,
                }
            )
        conn.execute(insert(tokens), rows)
        return TokenPair(access, refresh or "", limits.access, session_id)

    def authenticate(self, access_token: str, *, kind: str | None = None) -> SessionInfo:
        """
        The session of a valid access token.

        Raises:
            AuthError: unknown, expired or revoked token, or dead session.
        """
        now = self.clock()
        t, s = tokens, sessions
        query = (
            select(s, t.c.expires_at.label("token_expires"))
            .join(t, t.c.session_id == s.c.id)
            .where(t.c.hash == keys.token_hash(self.keyring, access_token), t.c.kind == "access")
        )
        with self.engine.connect().execution_options(readonly=True) as conn:
            row = conn.execute(query).first()
        if (
            row is None
            or row.token_expires <= now
            or not _alive(row, now)
            or (kind and row.kind != kind)
        ):
            raise AuthError("the access token is invalid or expired", code="invalid_token")
        return SessionInfo(
            row.id, row.subject_id, row.kind, row.device_id, row.client_id, row.scope, row.auth_time
        )

    def session(
        self, session_id: str, *, kind: str = "account", touch_after: int | None = None
    ) -> SessionInfo:
        """
        A live session by id (a browser session stands for it); activity older than
        ``touch_after`` seconds is recorded, which resets the idle limit.

        Raises:
            AuthError: unknown, revoked, idle or expired session.
        """
        now = self.clock()
        with self.engine.connect().execution_options(readonly=True) as conn:
            row = conn.execute(select(sessions).where(sessions.c.id == session_id)).first()
        if row is None or row.kind != kind or not _alive(row, now):
            raise AuthError("the session has ended; sign in again", code="invalid_token")
        if touch_after is not None and now - row.last_used_at > touch_after * MICROS:
            with self.engine.begin() as conn:
                self.touch(conn, session_id)
        return SessionInfo(
            row.id, row.subject_id, row.kind, row.device_id, row.client_id, row.scope, row.auth_time
        )

    def rotate(
        self, conn: Connection, refresh_token: str, limits: Limits, *, client_id: str | None = None
    ) -> TokenPair | AuthError:
        """
        Spend a refresh token and issue the next pair of its family.

        Returns:
            The new pair, or the error to raise *after* committing (unknown, expired, spent —
            the family is then revoked, which must commit — or dead session).
        """
        spent = self.spend_refresh(conn, refresh_token, client_id=client_id, what="session")
        if isinstance(spent, AuthError):
            return spent
        return self.add_pair(conn, spent[0], keys.new_token("at"), keys.new_token("rt"), limits)

    def spend_refresh(
        self,
        conn: Connection,
        refresh_token: str,
        *,
        client_id: str | None = None,
        what: Literal["session", "grant"] = "grant",
    ) -> tuple[str, dict[str, object]] | AuthError:
        """
        Spend a refresh token atomically: its session id and row, or the error to raise after
        commit (a reused token revokes its family). ``what`` names the family in messages: a
        sign-in ``session`` or an OAuth ``grant``.
        """
        now = self.clock()
        h = keys.token_hash(self.keyring, refresh_token)
        row = conn.execute(
            select(sessions, tokens.c.expires_at.label("token_expires"), tokens.c.used_at)
            .join(tokens, tokens.c.session_id == sessions.c.id)
            .where(tokens.c.hash == h, tokens.c.kind == "refresh")
        ).first()
        if row is None or (client_id is not None and row.client_id != client_id):
            return AuthError("the refresh token is invalid", code="invalid_grant")
        spent = conn.execute(
            update(tokens).where(tokens.c.hash == h, tokens.c.used_at.is_(None)).values(used_at=now)
        ).rowcount
        if spent != 1:
            self.revoke(conn, row.id, why="refresh_reuse")
            return AuthError(
                f"the refresh token was already used; the {what} is revoked", code="invalid_grant"
            )
        if row.token_expires <= now or not _alive(row, now):
            expired = (
                "the session has expired; sign in again"
                if what == "session"
                else "the grant has expired"
            )
            return AuthError(expired, code="invalid_grant")
        self.touch(conn, row.id)
        return row.id, dict(row._mapping)

    def touch(self, conn: Connection, session_id: str) -> None:
        """Record activity on a session (resets the idle limit)."""
        conn.execute(
            update(sessions).where(sessions.c.id == session_id).values(last_used_at=self.clock())
        )

    def revoke(self, conn: Connection, session_id: str, *, why: str) -> None:
        """Revoke a session and with it every token of its family."""
        now = self.clock()
        conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_why=why)
        )
        conn.execute(
            update(tokens)
            .where(tokens.c.session_id == session_id, tokens.c.expires_at > now)
            .values(expires_at=now)
        )

    def revoke_where(
        self,
        conn: Connection,
        *,
        subject_id: str,
        why: str,
        kind: str | None = None,
        client_id: str | None = None,
        device_id: str | None = None,
        keep: str | None = None,
    ) -> int:
        """Revoke every live session of a subject matching the filters; returns how many."""
        where = [sessions.c.subject_id == subject_id, sessions.c.revoked_at.is_(None)]
        if kind is not None:
            where.append(sessions.c.kind == kind)
        if client_id is not None:
            where.append(sessions.c.client_id == client_id)
        if device_id is not None:
            where.append(sessions.c.device_id == device_id)
        if keep is not None:
            where.append(sessions.c.id != keep)
        ids = conn.execute(select(sessions.c.id).where(and_(*where))).scalars().all()
        for session_id in ids:
            self.revoke(conn, session_id, why=why)
        return len(ids)

    def touch_auth(self, conn: Connection, session_id: str) -> None:
        """Record a step-up: the session's last authentication is now."""
        conn.execute(
            update(sessions).where(sessions.c.id == session_id).values(auth_time=self.clock())
        )

    def live_sessions(self, subject_id: str, kind: str) -> list[dict[str, object]]:
        """Live sessions of a subject (for Manage devices and Accounts & Permission)."""
        now = self.clock()
        with self.engine.connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(sessions).where(
                    sessions.c.subject_id == subject_id,
                    sessions.c.kind == kind,
                    sessions.c.revoked_at.is_(None),
                )
            ).all()
        return [dict(r._mapping) for r in rows if _alive(r, now)]


def _alive(row: object, now: int) -> bool:
    r = row
    return (
        getattr(r, "revoked_at") is None  # noqa: B009
        and getattr(r, "expires_at") > now  # noqa: B009
        and now - getattr(r, "last_used_at") <= getattr(r, "idle_micros")  # noqa: B009
    )
