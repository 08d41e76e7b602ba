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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.api.errors import error_response

CLASSES = ("collect", "switches", "signin", "pages", "api")
"""The request classes, each with its own limit."""

DEFAULT_LIMITS: Mapping[str, int] = {
    "collect": 8,
    "switches": 16,
    "signin": 16,
    "pages": 32,
    "api": 32,
}
"""Requests in flight per class before 503, sized for one worker on a small machine (a
switch change takes 3-4 ms of CPU: 16 in flight is already ~60 ms of queue). Measured with
``bench/gate.py``: 8 in flight kept admitted switch reads at p99 0.5 s under a 200-connection
flood, 128 at 1.2 s."""

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


def _refusal(name: str) -> tuple[Message, Message]:
    """The ASGI messages of a class's 503 (the one error shape, with Retry-After)."""
    message = f"the server is at capacity for {name} requests; retry after {RETRY_AFTER} second(s)"
    response = error_response(503, "overloaded", message, None, {"Retry-After": str(RETRY_AFTER)})
    start: Message = {
        "type": "http.response.start",
        "status": 503,
        "headers": response.raw_headers,
    }
    return start, {"type": "http.response.body", "body": bytes(response.body)}


class AdmissionMiddleware:
    """Counts requests in flight per class and sheds the excess with 503."""

    def __init__(self, app: ASGIApp, *, limits: Mapping[str, int] = DEFAULT_LIMITS) -> None:
        self.app = app
        self.limits = {name: limits.get(name, DEFAULT_LIMITS[name]) for name in CLASSES}
        self.in_flight = dict.fromkeys(CLASSES, 0)
        self.shed = dict.fromkeys(CLASSES, 0)
        self._refusals = {name: _refusal(name) for name in CLASSES}
        """The 503 of each class, made once: shedding must cost as little as possible."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        name = request_class(scope["path"])
        if self.in_flight[name] >= self.limits[name]:
            self.shed[name] += 1
            start, body = self._refusals[name]
            await send(start)
            await send(body)
            return
        self.in_flight[name] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[name] -= 1
