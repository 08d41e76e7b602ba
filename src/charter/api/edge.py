"""
The deployment's checks on every request, in one ASGI layer (one call and one header scan per
request instead of a layer each). In order, as the separate middlewares had them:

1. CORS for the OpenID provider's browser endpoints (:mod:`charter.api.cors`; only on its
   paths, the others skip it).
2. Admission control (:mod:`charter.api.admission`): 503 with ``Retry-After`` under overload.
3. Body limits (:mod:`charter.api.limits`): 413 for a declared length past the route's limit;
   a body that streams past it is cut with 413 (``receive`` is bounded only when the request
   has a body).
4. JSON bodies are JSON (:mod:`charter.api.media`): 415 for a JSON route's body in another
   media type.
5. The catch-all (:func:`charter.api.errors.call_catching`): 500, 507, 503 or 409 in the one
   error shape for an exception that escaped a route.

The classes of those modules stay usable on their own (tests, other apps).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from charter.api import media
from charter.api.admission import EXEMPT, Admission, arrive, refusal
from charter.api.cors import PATHS as CORS_PATHS
from charter.api.cors import ProviderCORSMiddleware
from charter.api.errors import call_catching, error_response
from charter.api.limits import ROUTE_LIMITS, bounded_receive, limit_for, too_large_response


class EdgeMiddleware:
    """CORS, admission, body limits, JSON media types and the catch-all (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        admission: Admission,
        cors_allowed: Callable[[str], bool],
        max_body: int,
        routes: Mapping[str, int] = ROUTE_LIMITS,
    ) -> None:
        self.app = app
        self.admission = admission
        self.max_body = max_body
        self.routes = dict(routes)
        self._refusals = {name: refusal(name) for name in admission.limits}
        self._cors = ProviderCORSMiddleware(self._checked, allowed=cors_allowed)
        self._json_routes: media.JsonRouteIndex | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] in CORS_PATHS:
            await self._cors(scope, receive, send)
        else:
            await self._checked(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path in EXEMPT:
            await self._bounded(scope, receive, send)
            return
        name, admitted = arrive(self.admission, path)
        if not admitted:
            start, body = self._refusals[name]
            await send(start)
            await send(body)
            return
        try:
            await self._bounded(scope, receive, send)
        finally:
            self.admission.done(name)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        length: bytes | None = None
        chunked = False
        content_type: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"content-length":
                length = value
            elif key == b"transfer-encoding":
                chunked = True
            elif key == b"content-type":
                content_type = value
        if length is None and not chunked:  # no body: nothing to bound or to check
            await call_catching(self.app, scope, receive, send)
            return
        limit = limit_for(scope["path"], self.max_body, self.routes)
        text = length.decode("latin-1").strip() if length is not None else ""
        if text.isdigit() and int(text) > limit:
            await too_large_response(limit)(scope, receive, send)
            return
        if (
            scope["method"] in media.BODY_METHODS
            and (text not in ("", "0") if length is not None else chunked)
            and not media.is_json(content_type.decode("latin-1") if content_type else None)
            and self._takes_json(scope)
        ):
            await error_response(415, "unsupported_media_type", media.MESSAGE)(scope, receive, send)
            return
        await call_catching(self.app, scope, bounded_receive(receive, limit), send)

    def _takes_json(self, scope: Scope) -> bool:
        routes = self._json_routes
        if routes is None:
            routes = self._json_routes = media.json_route_index(scope.get("app"))
        return routes.matches(scope["method"], scope["path"])
