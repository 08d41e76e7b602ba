"""
What every Privacy Center page needs: the deployment's services, the browser session, the
signed-in person, and template rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from charter.app import Charter
from charter.demo import is_demo
from charter.errors import RefusedError
from charter.rights import Rights
from charter.services.account.browser import BrowserSessions, cookie_options
from charter.services.account.service import AccountService
from charter.services.account.sessions import SessionInfo
from charter.services.staff.roles import StaffMember, StaffRoles
from charter.web.session import COOKIE, BrowserSession, check_csrf

MICROS = 1_000_000


class SignInRequiredError(Exception):
    """The page needs a signed-in person; the route layer redirects to the sign-in page."""


@dataclass(frozen=True, slots=True)
class User:
    """The signed-in person of a request."""

    subject_id: str
    session: SessionInfo
    staff: StaffMember | None


@dataclass
class WebServices:
    """The deployment's services as the pages use them (built once per app)."""

    charter: Charter
    rights: Rights
    accounts: AccountService
    staff: StaffRoles
    browser: BrowserSessions

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
        charter.accounts.browser,
    )


def services(request: Request) -> WebServices:
    """The app's :class:`WebServices` (set by :func:`charter.web.install`)."""
    found: WebServices = request.app.state.web
    return found


def now_seconds(request: Request) -> int:
    """The deployment's clock in seconds."""
    return services(request).charter.clock() // MICROS


def web_session(request: Request) -> BrowserSession:
    """The browser session of a request (a fresh one when the cookie is absent or stale)."""
    found: BrowserSession | None = getattr(request.state, "web_session", None)
    if found is None:
        browser = services(request).browser
        found = browser.load(request.cookies.get(COOKIE)) or browser.new()
        request.state.web_session = found
    return found


def save_session(request: Request, response: Response) -> None:
    """Store a new or changed session, and send the cookie when its id is new."""
    session: BrowserSession | None = getattr(request.state, "web_session", None)
    if session is None:
        return
    changed = session.cookie_changed
    services(request).browser.save(session)
    if changed:
        options = cookie_options(
            scheme=request.url.scheme, issuer=services(request).charter.settings.issuer
        )
        response.set_cookie(COOKIE, session.token, **options)


async def csrf_protect(request: Request) -> None:
    """Router dependency: every ``POST`` carries the session's CSRF token."""
    if request.method != "POST":
        return
    form = await request.form()
    check_csrf(_existing(request), form.get("csrf"))


def _existing(request: Request) -> BrowserSession | None:
    found: BrowserSession | None = getattr(request.state, "web_session", None)
    if found is None:
        found = services(request).browser.load(request.cookies.get(COOKIE))
        if found is not None:
            request.state.web_session = found
    return found


def current_user(request: Request) -> User:
    """
    The signed-in person.

    Raises:
        SignInRequiredError: nobody is signed in, or the session has ended.
    """
    cached: User | None = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached
    web = services(request)
    info = web.browser.account(web_session(request))
    if info is None:
        raise SignInRequiredError
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
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    form_origin: str | None = None,
) -> HTMLResponse:
    """Render a page with the layout's common values (session, user, flash message).
    ``form_origin``: another origin a form's answer may redirect to (CSP ``form-action``
    applies to the redirects after a post: the sign-in pages send a person back to an app)."""
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
    headers = _NO_STORE
    if form_origin:
        csp = headers["Content-Security-Policy"].replace(
            "form-action 'self'", f"form-action 'self' {form_origin}"
        )
        headers = {**headers, "Content-Security-Policy": csp}
    return HTMLResponse(html, status_code=status, headers=headers)


BACK_MAX = 300


def same_site_path(value: str | None) -> str | None:
    """``value`` when it is a path of this site a form may send the person back to (``/``,
    then printable ASCII without a backslash: no scheme, no host, no ``//host``), else
    ``None``. Browsers drop tabs and newlines and read a backslash as ``/``, so a path made
    of ``/``, a backslash or a tab, then ``/evil.example`` would leave the site: refused."""
    if not value or len(value) > BACK_MAX or not value.startswith("/"):
        return None
    if any(not 32 < ord(c) < 127 or c == "\\" for c in value) or value.startswith("//"):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def redirect(url: str) -> RedirectResponse:
    """A ``303 See Other`` to a path of this site (after a form post)."""
    if same_site_path(url) is None:
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
