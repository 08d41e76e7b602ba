"""
The Privacy Center's browser session: one signed cookie, ``HttpOnly``, ``SameSite=Lax``
(and ``Secure`` over HTTPS).

The cookie holds only opaque values: the account service's access and refresh tokens, a
pending sign-in challenge id, the CSRF token, a one-time download token and a short status
message. Never a name, an address or an account id. It is signed with a key derived from
the deployment's HMAC key, so a changed cookie is ignored, and it expires with the account
service's absolute session limit (24 h).

Every ``POST`` form carries the CSRF token (``<input name="csrf">``); :func:`check_csrf`
compares it with the cookie's in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from charter.errors import AuthError

COOKIE = "charter_pc"
MAX_AGE_SECONDS = 24 * 3600
_LABEL = b"charter.web.session/1"


@dataclass
class WebSession:
    """What the cookie carries."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    access: str | None = None
    refresh: str | None = None
    challenge: str | None = None
    methods: list[str] = field(default_factory=list)
    download: str | None = None
    flash: str | None = None
    flash_kind: str = "info"
    issued: int = 0
    dirty: bool = False

    def __repr__(self) -> str:
        return "WebSession(***)"

    @property
    def signed_in(self) -> bool:
        """Whether the cookie carries account tokens."""
        return bool(self.access)

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

    def sign_in(self, access: str, refresh: str) -> None:
        """Keep fresh tokens; a new CSRF token starts with the new session."""
        self.access, self.refresh = access, refresh
        self.challenge, self.methods = None, []
        self.csrf = secrets.token_urlsafe(24)
        self.dirty = True

    def sign_out(self) -> None:
        """Forget tokens, challenge and download."""
        self.access = self.refresh = self.challenge = self.download = None
        self.methods = []
        self.csrf = secrets.token_urlsafe(24)
        self.dirty = True


class SessionCodec:
    """Encode and verify cookies with a key derived from the deployment's HMAC key."""

    def __init__(self, hmac_key: bytes) -> None:
        self._key = hmac.new(hmac_key, _LABEL, hashlib.sha256).digest()

    def _mac(self, body: bytes) -> str:
        digest = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, session: WebSession, now_seconds: int) -> str:
        """The cookie value of a session."""
        data = {k: v for k, v in asdict(session).items() if k != "dirty" and v not in (None, [])}
        data["issued"] = session.issued or now_seconds
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
        text = body.decode().rstrip("=")
        return f"{text}.{self._mac(text.encode())}"

    def decode(self, value: str | None, now_seconds: int) -> WebSession | None:
        """The session of a cookie value, or ``None`` when absent, forged or expired."""
        if not value or "." not in value or len(value) > 4000:
            return None
        text, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(text.encode())):
            return None
        try:
            data: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            )
            session = WebSession(**{k: v for k, v in data.items() if k in _FIELDS})
        except (ValueError, TypeError):
            return None
        if not isinstance(session.issued, int) or now_seconds - session.issued > MAX_AGE_SECONDS:
            return None
        return session


_FIELDS = frozenset(f for f in WebSession.__dataclass_fields__ if f != "dirty")


def check_csrf(session: WebSession | None, submitted: object) -> None:
    """
    Raises:
        AuthError: the form's CSRF token is missing or does not match the cookie's.
    """
    if (
        session is None
        or not isinstance(submitted, str)
        or not hmac.compare_digest(submitted.encode(), session.csrf.encode())
    ):
        raise AuthError("this form has expired; reload the page and try again", code="csrf_failed")
