"""
What every Privacy Center page needs: the deployment's services, the browser session, the
signed-in person, and template rendering.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from charter.app import Charter
from charter.demo import is_demo
from charter.errors import AuthError, RefusedError
from charter.rights import Rights
from charter.services.account.service import AccountService
from charter.services.account.sessions import SessionInfo, TokenPair
from charter.services.staff.roles import StaffMember, StaffRoles
from charter.web.session import COOKIE, SessionCodec, WebSession, check_csrf

MICROS = 1_000_000


class SignInRequiredError(Exception):
    """The page needs a signed-in person; the route layer redirects to the sign-in page."""


@dataclass(frozen=True, slots=True)
class User:
    """The signed-in person of a request."""

    subject_id: str
    session: SessionInfo
    staff: StaffMember | None


class _RefreshCache:
    """
    Rotated refresh tokens of the last minute, so that two pages a browser loads at once
    with the same expired access token rotate once (the second reuses the first's pair)
    instead of looking like a stolen token, which would end the session.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._lock = threading.Lock()
        self._pairs: dict[bytes, tuple[float, TokenPair]] = {}

    def rotate(self, accounts: AccountService, refresh: str) -> TokenPair:
        """The pair a refresh token rotates to (the same pair for a minute)."""
        digest = hmac.new(self._key, refresh.encode(), "sha256").digest()
        with self._lock:
            now = time.monotonic()
            self._pairs = {k: v for k, v in self._pairs.items() if now - v[0] < 60}
            hit = self._pairs.get(digest)
            if hit is not None:
                return hit[1]
            pair = accounts.refresh(refresh)
            self._pairs[digest] = (now, pair)
            return pair


@dataclass
class WebServices:
    """The deployment's services as the pages use them (built once per app)."""

    charter: Charter
    rights: Rights
    accounts: AccountService
    staff: StaffRoles
    codec: SessionCodec
    refreshes: _RefreshCache

    @property
    def demo(self) -> bool:
        """Whether this deployment holds demo accounts (seeded after start-up, so asked)."""
        return is_demo(self.charter)


def build_services(charter: Charter) -> WebServices:
    """What the pages need of a deployment, made once when the Privacy Center is installed."""
    return WebServices(
        charter,
        charter.rights,
        charter.accounts,
        charter.staff,
        SessionCodec(charter.keyring.hmac_key),
        _RefreshCache(charter.keyring.hmac_key),
    )


def services(request: Request) -> WebServices:
    """The app's :class:`WebServices` (set by :func:`charter.web.install`)."""
    found: WebServices = request.app.state.web
    return found


def now_seconds(request: Request) -> int:
    """The deployment's clock in seconds."""
    return services(request).charter.clock() // MICROS


def web_session(request: Request) -> WebSession:
    """The browser session of a request (a fresh one when the cookie is absent or bad)."""
    found: WebSession | None = getattr(request.state, "web_session", None)
    if found is None:
        found = services(request).codec.decode(request.cookies.get(COOKIE), now_seconds(request))
        if found is None:
            found = WebSession(dirty=True)
        request.state.web_session = found
    return found


def save_session(request: Request, response: Response) -> None:
    """Write the session cookie onto a response when the session changed."""
    session: WebSession | None = getattr(request.state, "web_session", None)
    if session is None or not session.dirty:
        return
    value = services(request).codec.encode(session, now_seconds(request))
    response.set_cookie(
        COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def csrf_protect(request: Request) -> None:
    """Router dependency: every ``POST`` carries the session's CSRF token."""
    if request.method != "POST":
        return
    form = await request.form()
    check_csrf(getattr(request.state, "web_session", None) or _existing(request), form.get("csrf"))


def _existing(request: Request) -> WebSession | None:
    session = services(request).codec.decode(request.cookies.get(COOKIE), now_seconds(request))
    if session is not None:
        request.state.web_session = session
    return session


def current_user(request: Request) -> User:
    """
    The signed-in person; an expired access token is refreshed once.

    Raises:
        SignInRequiredError: nobody is signed in, or the session has ended.
    """
    cached: User | None = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached
    web = services(request)
    session = web_session(request)
    if not session.access:
        raise SignInRequiredError
    try:
        info = web.accounts.authenticate(session.access)
    except AuthError:
        if not session.refresh:
            session.sign_out()
            raise SignInRequiredError from None
        try:
            pair = web.refreshes.rotate(web.accounts, session.refresh)
            info = web.accounts.authenticate(pair.access_token)
        except AuthError:
            session.sign_out()
            raise SignInRequiredError from None
        session.access, session.refresh, session.dirty = pair.access_token, pair.refresh_token, True
    user = User(info.subject_id, info, web.staff.get(info.subject_id))
    request.state.web_user = user
    return user


def current_staff(request: Request) -> User:
    """
    The signed-in staff member.

    Raises:
        SignInRequiredError: nobody is signed in.
        RefusedError: the person is not staff.
    """
    user = current_user(request)
    if user.staff is None:
        raise RefusedError("these pages are for Privacy Center staff", code="forbidden")
    return user


# -- rendering -------------------------------------------------------------------------------


def when(micros: int | None) -> str:
    """Microseconds since the epoch as ``2026-01-31 14:05 UTC``."""
    if micros is None:
        return "—"
    return datetime.fromtimestamp(micros / MICROS, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(micros: int | None) -> str:
    """Microseconds since the epoch as ``2026-01-31``."""
    if micros is None:
        return "—"
    return datetime.fromtimestamp(micros / MICROS, tz=UTC).strftime("%Y-%m-%d")


@cache
def templates() -> jinja2.Environment:
    """The Jinja2 environment of the Privacy Center's templates (autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("charter.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["day"] = day
    return env


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render a page with the layout's common values (session, user, flash message)."""
    session = web_session(request)
    ctx: dict[str, Any] = {
        "csrf": session.csrf,
        "flash": session.take_flash(),
        "user": getattr(request.state, "web_user", None),
        "path": request.url.path,
        "title": "Privacy Center",
        "demo": services(request).demo,
    }
    ctx.update(context or {})
    html = templates().get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers=_NO_STORE)


def redirect(url: str) -> RedirectResponse:
    """A ``303 See Other`` to a path of this site (after a form post)."""
    if not url.startswith("/") or url.startswith("//"):
        url = "/"
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


_NO_STORE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
"""Headers of every Privacy Center page: personal pages are never cached or framed."""
