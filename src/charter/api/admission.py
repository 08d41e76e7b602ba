"""
Admission control: at most so many requests of a class in flight; past that, 503 with
``Retry-After`` at once instead of a queue, so the requests that are admitted stay fast.

Classes (by path): ``collect`` (``/v1/collect``), ``switches`` (a subject's switches),
``signin`` (sign-in, registration, codes and the token endpoint: each may cost an argon2
hash), ``pages`` (the Privacy Center) and ``api`` (every other route). ``/healthz`` is never
refused. Limits come from ``CHARTER_MAX_IN_FLIGHT`` (e.g. ``collect=16,signin=32``); the
sign-in hashing gate of the account service stays behind this as a second, tighter bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from charter.api.errors import error_response

CLASSES = ("collect", "switches", "signin", "pages", "api")
"""The request classes, each with its own limit."""

DEFAULT_LIMITS: Mapping[str, int] = {
    "collect": 16,
    "switches": 128,
    "signin": 32,
    "pages": 64,
    "api": 256,
}
"""Requests in flight per class before 503 (sized for a small server; raise them in settings)."""

RETRY_AFTER = 1
EXEMPT = frozenset({"/healthz"})

_SWITCHES = re.compile(r"^/v1/subjects/[^/]+/switches(/|$)")
_SIGNIN = (
    "/v1/account/login",
    "/v1/account/register",
    "/v1/account/help",
    "/v1/account/me/password",
    "/v1/account/reauth",
    "/oauth/token",
    "/signin",
)


def request_class(path: str) -> str:
    """The admission class of a request path."""
    if path.startswith("/v1/collect"):
        return "collect"
    if _SWITCHES.match(path):
        return "switches"
    if path.startswith(_SIGNIN):
        return "signin"
    if path.startswith(("/v1/", "/oauth/", "/.well-known/", "/openapi", "/docs", "/redoc")):
        return "api"
    return "pages"


def parse_limits(text: str | None) -> dict[str, int]:
    """
    Limits from ``class=number`` pairs separated by commas, over :data:`DEFAULT_LIMITS`.

    Raises:
        ValueError: an unknown class or a number that is not a positive integer (the
            message names it and lists the classes).
    """
    limits = dict(DEFAULT_LIMITS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, number = part.partition("=")
        name, number = name.strip(), number.strip()
        if name not in CLASSES:
            raise ValueError(f"unknown request class {name!r}; use {', '.join(CLASSES)}")
        if not number.isdigit() or int(number) <= 0:
            raise ValueError(f"the limit of {name} must be a positive whole number")
        limits[name] = int(number)
    return limits


class AdmissionMiddleware:
    """Counts requests in flight per class and sheds the excess with 503."""

    def __init__(self, app: ASGIApp, *, limits: Mapping[str, int] = DEFAULT_LIMITS) -> None:
        self.app = app
        self.limits = {name: limits.get(name, DEFAULT_LIMITS[name]) for name in CLASSES}
        self.in_flight = dict.fromkeys(CLASSES, 0)
        self.shed = dict.fromkeys(CLASSES, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        name = request_class(scope["path"])
        if self.in_flight[name] >= self.limits[name]:
            self.shed[name] += 1
            message = (
                f"the server is at capacity for {name} requests; "
                f"retry after {RETRY_AFTER} second(s)"
            )
            headers = {"Retry-After": str(RETRY_AFTER)}
            await error_response(503, "overloaded", message, None, headers)(scope, receive, send)
            return
        self.in_flight[name] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[name] -= 1
