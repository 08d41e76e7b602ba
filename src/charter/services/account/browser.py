"""
Browser sessions: one per browser, shared by the Privacy Center and the OpenID provider.

The browser holds only an opaque session id (256 random bits) in one cookie,
:data:`COOKIE` (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS). The server keeps the
session in ``acct_browser_sessions`` under a keyed hash of that id, and its contents (the
CSRF token, a pending sign-in challenge, where to return after signing in, a one-time
download ticket, a message for the next page) encrypted with AES-256-GCM under a key derived
from the id itself: a copy of the database alone can neither resume a session nor read one.

A signed-in browser session points at a first-party account session (``acct_sessions``):
that session's idle and absolute limits, revocation and the account's state decide whether
the browser is still signed in. Signing in issues a new session id (no fixation); signing
out, here or through RP-initiated logout, ends the account session, so the Privacy Center
and every authorization request see it at once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, insert, select, update

from charter.errors import AuthError
from charter.services.account import keys
from charter.services.account.access import SessionAccess
from charter.services.account.context import AccountContext
from charter.services.account.sessions import SessionInfo, TokenPair
from charter.services.account.tables import browser_sessions

COOKIE = "charter_session"
MICROS = 1_000_000
ANONYMOUS_SECONDS = 2 * 3600
"""A browser session nobody signed in to lives two hours."""
SIGNED_IN_SECONDS = 24 * 3600
"""Upper bound of a signed-in browser session (the account session's own limits apply first)."""
TOUCH_SECONDS = 60
"""Activity is written at most once a minute per session (it resets the idle limit)."""
SWEEP_EVERY = 512
"""Expired sessions are deleted after every this many new ones."""
_ID_PREFIX = "bs_"
_FIELDS = ("csrf", "challenge", "methods", "download", "flash", "flash_kind", "return_to", "reauth")


@dataclass
class BrowserSession:
    """One browser's session. ``token`` is the cookie value; it never reaches the database."""

    token: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    challenge: str | None = None
    methods: list[str] = field(default_factory=list)
    download: str | None = None
    flash: str | None = None
    flash_kind: str = "info"
    return_to: str | None = None
    reauth: dict[str, Any] | None = None
    subject_id: str | None = None
    account_session: str | None = None
    created_at: int = 0
    stored: bool = False
    dirty: bool = False
    replaced: str | None = None
    """The previous token after a rotation (its row is deleted when the session is saved)."""

    def __repr__(self) -> str:
        return "BrowserSession(***)"

    @property
    def cookie_changed(self) -> bool:
        """Whether the browser must be sent the cookie (new or rotated id)."""
        return not self.stored or self.replaced is not None

    def say(self, message: str, kind: str = "info") -> None:
        """Leave a message for the next page (``info``, ``success`` or ``error``)."""
        self.flash, self.flash_kind, self.dirty = message, kind, True

    def take_flash(self) -> tuple[str, str] | None:
        """The pending message, once."""
        if self.flash is None:
            return None
        out = (self.flash, self.flash_kind)
        self.flash, self.flash_kind, self.dirty = None, "info", True
        return out

    def rotate(self) -> None:
        """A new session id and CSRF token (after signing in or out)."""
        if self.stored and self.replaced is None:
            self.replaced = self.token
        self.token = _new_token()
        self.csrf = secrets.token_urlsafe(24)
        self.dirty = True


def cookie_options(*, scheme: str, issuer: str) -> dict[str, Any]:
    """How the cookie is set: ``HttpOnly``, ``SameSite=Lax``, whole site, ``Secure`` over
    HTTPS (the request's ``scheme``, or an ``https`` issuer behind a TLS-terminating proxy)."""
    https = scheme == "https" or issuer.startswith("https://")
    return {"httponly": True, "samesite": "lax", "secure": https, "path": "/"}


def _new_token() -> str:
    return _ID_PREFIX + secrets.token_urlsafe(32)


class BrowserSessions:
    """Load, save, sign in and sign out browser sessions (control database)."""

    def __init__(self, context: AccountContext, access: SessionAccess) -> None:
        self.context = context
        self.access = access
        self.keyring = context.keyring
        self.clock = context.clock
        self._inserted = 0

    # -- loading and saving ----------------------------------------------------------------

    def new(self) -> BrowserSession:
        """A fresh session (stored on its first save)."""
        return BrowserSession(_new_token(), created_at=self.clock(), dirty=True)

    def load(self, token: str | None) -> BrowserSession | None:
        """The session of a cookie value, or ``None`` when absent, unknown or expired."""
        if not token or not token.startswith(_ID_PREFIX) or len(token) > 100:
            return None
        now = self.clock()
        with self.context.control.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(browser_sessions).where(browser_sessions.c.id == self._id(token))
            ).first()
        if row is None or row.expires_at <= now:
            return None
        try:
            data = json.loads(self._cipher(token).decrypt(row.data[:12], row.data[12:], None))
        except (InvalidTag, ValueError):
            return None
        session = BrowserSession(
            token,
            subject_id=row.subject_id,
            account_session=row.account_session,
            created_at=row.created_at,
            stored=True,
        )
        for name in _FIELDS:
            if name in data:
                setattr(session, name, data[name])
        return session

    def save(self, session: BrowserSession) -> None:
        """Write a new or changed session (and drop the row of a rotated-away id)."""
        if session.stored and not session.dirty:
            return
        now = self.clock()
        lifetime = SIGNED_IN_SECONDS if session.account_session else ANONYMOUS_SECONDS
        data = {name: getattr(session, name) for name in _FIELDS}
        nonce = secrets.token_bytes(12)
        blob = nonce + self._cipher(session.token).encrypt(
            nonce, json.dumps(data, separators=(",", ":")).encode(), None
        )
        values = {
            "subject_id": session.subject_id,
            "account_session": session.account_session,
            "data": blob,
            "seen_at": now,
            "expires_at": now + lifetime * MICROS,
        }
        with self.context.control.begin() as conn:
            if session.replaced is not None:
                conn.execute(
                    delete(browser_sessions).where(
                        browser_sessions.c.id == self._id(session.replaced)
                    )
                )
            if session.stored and session.replaced is None:
                conn.execute(
                    update(browser_sessions)
                    .where(browser_sessions.c.id == self._id(session.token))
                    .values(**values)
                )
            else:
                conn.execute(
                    insert(browser_sessions).values(
                        id=self._id(session.token), created_at=now, **values
                    )
                )
        session.stored, session.dirty, session.replaced = True, False, None
        self._inserted += 1
        if self._inserted % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> int:
        """Delete expired browser sessions; returns how many."""
        with self.context.control.begin() as conn:
            return int(
                conn.execute(
                    delete(browser_sessions).where(browser_sessions.c.expires_at <= self.clock())
                ).rowcount
                or 0
            )

    # -- the account behind a session ------------------------------------------------------

    def account(self, session: BrowserSession) -> SessionInfo | None:
        """The live account session of a browser session, or ``None`` (and the browser session
        forgets a dead one)."""
        if session.account_session is None or session.subject_id is None:
            return None
        try:
            return self.access.session(
                session.account_session, subject_id=session.subject_id, touch_after=TOUCH_SECONDS
            )
        except AuthError:
            self._forget(session)
            return None

    def sign_in(self, session: BrowserSession, tokens: TokenPair) -> None:
        """Bind a browser session to a new account session (the tokens themselves are not
        kept: the browser session stands for them). A previous account session ends."""
        previous, previous_subject = session.account_session, session.subject_id
        info = self.access.session(tokens.session_id, subject_id=tokens.subject_id)
        if previous and previous != tokens.session_id:
            self._end(previous, previous_subject)
        session.subject_id, session.account_session = info.subject_id, tokens.session_id
        session.challenge, session.methods = None, []
        session.rotate()

    def sign_out(self, session: BrowserSession) -> None:
        """End the account session and forget it here; a new session id follows."""
        if session.account_session:
            self._end(session.account_session, session.subject_id)
        self._forget(session)
        session.challenge, session.methods, session.download, session.reauth = None, [], None, None
        session.return_to = None
        session.rotate()

    def _end(self, account_session: str, subject_id: str | None) -> None:
        with self.context.control.begin() as conn:
            self.context.tokens.revoke(conn, account_session, why="logout", subject_id=subject_id)

    def _forget(self, session: BrowserSession) -> None:
        session.subject_id = session.account_session = None
        session.dirty = True

    # -- keys --------------------------------------------------------------------------------

    def _id(self, token: str) -> str:
        return keys.token_hash(self.keyring, "browser:" + token)

    @staticmethod
    def _cipher(token: str) -> AESGCM:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"charter.browser-session/1"
        ).derive(token.encode())
        return AESGCM(key)
