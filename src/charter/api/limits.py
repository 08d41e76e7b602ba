"""
Request body limits, enforced while the body streams in.

Every route has a limit: the deployment's default (``CHARTER_MAX_BODY_BYTES``, 1 MiB) or a
route's own, larger one (:data:`ROUTE_LIMITS`: batches of events, photo uploads). A request
that declares a longer ``Content-Length`` is answered 413 at once, before anything is read
and before any authentication work; one that streams more than its limit (chunked, or a
lying length) is answered 413 as soon as the limit is passed. Memory per request is bounded
by the limit, whatever the client sends.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.api.errors import BodyTooLargeError, error_response

MIB = 1 << 20

ROUTE_LIMITS: Mapping[str, int] = {
    "/v1/collect": 32 * MIB,
    "/v1/photos/strip": 64 * MIB + 64 * 1024,  # a 64 MiB photo and its multipart framing
}
"""Routes whose bodies may be larger than the default, by path."""

PREFIX_LIMITS: Mapping[str, int] = {
    "/v1/cloud/": 8 * MIB + 64 * 1024,  # an item or a chunk of a resumable upload, 8 MiB
}
"""Route families whose bodies may be larger than the default, by path prefix."""


def message(limit: int) -> str:
    """What a 413 says: the limit, and what to do."""
    size = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"
    return f"the request body is larger than this route's limit of {size}; send less"


def limit_for(path: str, default: int, routes: Mapping[str, int] = ROUTE_LIMITS) -> int:
    """The body limit of a path: its own, its family's (:data:`PREFIX_LIMITS`), or the
    default."""
    found = routes.get(path.rstrip("/") or "/")
    if found is not None:
        return found
    for prefix, limit in PREFIX_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return default


def too_large_response(limit: int) -> JSONResponse:
    """The 413 of a request that declares a body longer than ``limit`` (the connection is
    closed after it: the body is never read)."""
    return error_response(413, "too_large", message(limit), None, {"Connection": "close"})


def bounded_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLargeError` (a 413) once the body passes
    ``limit`` bytes."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        msg = await receive()
        if msg["type"] == "http.request":
            received += len(msg.get("body", b""))
            if received > limit:
                raise BodyTooLargeError(message(limit))
        return msg

    return limited_receive


class BodyLimitMiddleware:
    """Bounds every request body by its route's limit (see the module docstring). The
    deployment's app does the same inside :class:`charter.api.edge.EdgeMiddleware`."""

    def __init__(
        self, app: ASGIApp, *, default: int, routes: Mapping[str, int] = ROUTE_LIMITS
    ) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.default, self.routes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large_response(limit)(scope, receive, send)
            return
        await self.app(scope, bounded_receive(receive, limit), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
