"""
CORS for the OpenID provider's machine endpoints, so that a single-page app (PKCE, no
secret) can talk to them from the browser: discovery, JWKS, token, userinfo and revocation.

Only the origins of registered redirect URIs get CORS headers (and a preflight answer);
any other origin gets none, so the browser keeps the response from its script. No
credentials (cookies) are ever allowed cross-origin: these endpoints authenticate with the
request's own parameters or bearer token, never with the browser session. Every other path
of the API sends no CORS headers at all.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATHS = frozenset(
    {
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/oauth/token",
        "/oauth/userinfo",
        "/oauth/revoke",
    }
)
"""The endpoints a browser app may call across origins."""

MAX_AGE = "600"


class ProviderCORSMiddleware:
    """Adds CORS headers on :data:`PATHS` for origins ``allowed`` says yes to."""

    def __init__(self, app: ASGIApp, *, allowed: Callable[[str], bool]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        ok = len(origin) <= 300 and await run_in_threadpool(self.allowed, origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(origin if ok else None, headers)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if ok:
                    extra += [
                        (b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-expose-headers", b"WWW-Authenticate"),
                    ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _preflight(origin: str | None, headers: Headers) -> Response:
    if origin is None:
        return Response(status_code=403, headers={"Vary": "Origin"})
    method = headers["access-control-request-method"].upper()
    allowed_methods = "GET, POST"
    if method not in ("GET", "POST"):
        return Response(status_code=403, headers={"Vary": "Origin"})
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": allowed_methods,
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": MAX_AGE,
            "Vary": "Origin",
        },
    )
