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
from typing import Any, Literal

from sqlalchemy import Connection, Engine, and_, insert, select, update

from charter.crypto import Keyring
from charter.errors import AuthError
from charter.services.account import keys
from charter.services.account.tables import sessions, tokens
from charter.store import verified

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
    subject_id: str = ""


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
        self._verified: verified.VerifiedCache[tuple[SessionInfo, int, int, int, int]] = (
            verified.VerifiedCache()
        )
        """Verified access tokens: the session, the token's and the session's expiry, the
        last use and the idle limit (:mod:`charter.store.verified`; revocation forgets them)."""

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
        return self.add_pair(
            conn, session_id, keys.new_token("at"), keys.new_token("rt"), limits, subject_id
        )

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
        self,
        conn: Connection,
        session_id: str,
        access: str,
        refresh: str | None,
        limits: Limits,
        subject_id: str,
    ) -> TokenPair:
        """Store a freshly generated access (and refresh) token in ``subject_id``'s family."""
        now = self.clock()
        session_end = conn.execute(
            select(sessions.c.expires_at).where(
                sessions.c.subject_id == subject_id, sessions.c.id == session_id
            )
        ).scalar_one()
        rows = [
            {
                "hash": keys.token_hash(self.keyring, access),
                "subject_id": subject_id,
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
                    "subject_id": subject_id,
                    "session_id": session_id,
                    "kind": "refresh",
                    "issued_at": now,
                    "expires_at": min(now + limits.refresh * MICROS, session_end),
                    "used_at": None,
                }
            )
        conn.execute(insert(tokens), rows)
        return TokenPair(access, refresh or "", limits.access, session_id, subject_id)

    def authenticate(self, access_token: str, *, kind: str | None = None) -> SessionInfo:
        """
        The session of a valid access token: the token by its keyed hash, then its session
        by (subject, id), two single-node queries under Citus. A token verified in the last
        seconds is answered from memory (:mod:`charter.store.verified`; a revocation in this
        process is refused at once).

        Raises:
            AuthError: unknown, expired or revoked token, or dead session.
        """
        now = self.clock()
        cached = self._verified.get(access_token)
        if cached is not None:
            info, token_expires, session_expires, last_used, idle = cached
            if (
                token_expires > now
                and session_expires > now
                and now - last_used <= idle
                and not (kind and info.kind != kind)
            ):
                return info
        at_epoch = verified.epoch()
        t, s = tokens, sessions
        with self.engine.connect().execution_options(readonly=True) as conn:
            token = conn.execute(
                select(t.c.subject_id, t.c.session_id, t.c.expires_at).where(
                    t.c.hash == keys.token_hash(self.keyring, access_token), t.c.kind == "access"
                )
            ).first()
            row = (
                conn.execute(
                    select(s).where(s.c.subject_id == token.subject_id, s.c.id == token.session_id)
                ).first()
                if token is not None and token.expires_at > now
                else None
            )
        if token is None or row is None or not _alive(row, now) or (kind and row.kind != kind):
            raise AuthError("the access token is invalid or expired", code="invalid_token")
        info = SessionInfo(
            row.id, row.subject_id, row.kind, row.device_id, row.client_id, row.scope, row.auth_time
        )
        self._verified.put(
            access_token,
            (info, token.expires_at, row.expires_at, row.last_used_at, row.idle_micros),
            at_epoch,
        )
        return info

    def session(
        self,
        session_id: str,
        *,
        subject_id: str,
        kind: str = "account",
        touch_after: int | None = None,
    ) -> SessionInfo:
        """
        A live session of ``subject_id`` by id (a browser session stands for it); activity
        older than ``touch_after`` seconds is recorded, which resets the idle limit.

        Raises:
            AuthError: unknown, revoked, idle or expired session.
        """
        now = self.clock()
        with self.engine.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(sessions).where(
                    sessions.c.subject_id == subject_id, sessions.c.id == session_id
                )
            ).first()
        if row is None or row.kind != kind or not _alive(row, now):
            raise AuthError("the session has ended; sign in again", code="invalid_token")
        if touch_after is not None and now - row.last_used_at > touch_after * MICROS:
            with self.engine.begin() as conn:
                self.touch(conn, session_id, subject_id=subject_id)
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
        session_id, row = spent
        return self.add_pair(
            conn,
            session_id,
            keys.new_token("at"),
            keys.new_token("rt"),
            limits,
            str(row["subject_id"]),
        )

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
        found = self.refresh_token_row(conn, h)
        if found is None:
            return AuthError("the refresh token is invalid", code="invalid_grant")
        row, token_expires, used_at = found
        if client_id is not None and row.client_id != client_id:
            return AuthError("the refresh token is invalid", code="invalid_grant")
        spent = conn.execute(
            update(tokens).where(tokens.c.hash == h, tokens.c.used_at.is_(None)).values(used_at=now)
        ).rowcount
        if spent != 1 or used_at is not None:
            self.revoke(conn, row.id, why="refresh_reuse", subject_id=row.subject_id)
            return AuthError(
                f"the refresh token was already used; the {what} is revoked", code="invalid_grant"
            )
        if token_expires <= now or not _alive(row, now):
            expired = (
                "the session has expired; sign in again"
                if what == "session"
                else "the grant has expired"
            )
            return AuthError(expired, code="invalid_grant")
        self.touch(conn, row.id, subject_id=row.subject_id)
        return row.id, dict(row._mapping)

    @staticmethod
    def refresh_token_row(conn: Connection, token_hash: str) -> tuple[Any, int, int | None] | None:
        """A refresh token's session row, the token's expiry and when it was spent: the token
        by its hash, then its session by (subject, id) (two single-node queries under Citus)."""
        token = conn.execute(
            select(
                tokens.c.subject_id, tokens.c.session_id, tokens.c.expires_at, tokens.c.used_at
            ).where(tokens.c.hash == token_hash, tokens.c.kind == "refresh")
        ).first()
        if token is None:
            return None
        row = conn.execute(
            select(sessions).where(
                sessions.c.subject_id == token.subject_id, sessions.c.id == token.session_id
            )
        ).first()
        return None if row is None else (row, token.expires_at, token.used_at)

    def touch(self, conn: Connection, session_id: str, *, subject_id: str) -> None:
        """Record activity on a session (resets the idle limit)."""
        conn.execute(
            update(sessions)
            .where(sessions.c.subject_id == subject_id, sessions.c.id == session_id)
            .values(last_used_at=self.clock())
        )

    def revoke(
        self, conn: Connection, session_id: str, *, why: str, subject_id: str | None = None
    ) -> None:
        """Revoke a session and with it every token of its family (at once in this process,
        :mod:`charter.store.verified`). Give ``subject_id`` where known: a single-node query."""
        now = self.clock()
        verified.revoked_on_commit(conn)
        where = [sessions.c.id == session_id, sessions.c.revoked_at.is_(None)]
        token_where = [tokens.c.session_id == session_id, tokens.c.expires_at > now]
        if subject_id is not None:
            where.insert(0, sessions.c.subject_id == subject_id)
            token_where.insert(0, tokens.c.subject_id == subject_id)
        conn.execute(update(sessions).where(*where).values(revoked_at=now, revoked_why=why))
        conn.execute(update(tokens).where(*token_where).values(expires_at=now))

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
            self.revoke(conn, session_id, why=why, subject_id=subject_id)
        return len(ids)

    def touch_auth(self, conn: Connection, session_id: str, *, subject_id: str) -> None:
        """Record a step-up: the session's last authentication is now (verified access
        tokens are read again: they carry the time of the last authentication)."""
        verified.revoked_on_commit(conn)
        conn.execute(
            update(sessions)
            .where(sessions.c.subject_id == subject_id, sessions.c.id == session_id)
            .values(auth_time=self.clock())
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
