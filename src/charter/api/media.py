"""
JSON bodies are JSON: every API route that takes a JSON body answers **415**
``unsupported_media_type`` to a request whose body comes with any other ``Content-Type``
(or none), before authentication and before the route runs, so a ``text/plain`` body that
happens to parse as JSON is never stored.

Which routes take JSON is read from the routes themselves (:func:`json_body_routes`): a
declared body that is not a form or file upload, or an ``openapi_extra`` request body in
``application/json`` (``POST /v1/collect`` reads its body itself). A new JSON route is
covered without being listed; ``tests/api/test_api_media.py`` walks them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from charter.api.errors import error_response

JSON = "application/json"
MESSAGE = "the body must be JSON sent with Content-Type: application/json"
OCTET_STREAM = "application/octet-stream"
OCTET_STREAM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
    }
}
"""``openapi_extra`` of a route that reads its body itself as raw bytes (an upload, a chunk,
a sealed copy): the published document shows a required binary body."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _extra_json(route: APIRoute) -> bool:
    extra: dict[str, Any] = route.openapi_extra or {}
    content = extra.get("requestBody", {}).get("content", {})
    return JSON in content


def takes_json(route: APIRoute) -> bool:
    """Whether ``route`` takes a JSON request body."""
    body = route.body_field
    if body is not None:
        return not isinstance(body.field_info, params.Form)  # File is a Form
    return _extra_json(route)


@dataclass(frozen=True)
class JsonRoute:
    """A route that takes a JSON body: its full path (with its router's prefix) and methods."""

    path: str
    methods: frozenset[str]
    regex: re.Pattern[str]

    def matches(self, method: str, path: str) -> bool:
        """Whether a request of ``method`` on ``path`` reaches this route."""
        return method in self.methods and self.regex.match(path) is not None


def _flat(routes: Sequence[BaseRoute]) -> Iterator[tuple[BaseRoute, str | None, set[str]]]:
    """(original route, full path, methods) of every route, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts  # noqa: PLC0415
    except ImportError:  # older FastAPI: routes are flat already
        for route in routes:
            yield route, getattr(route, "path", None), set(getattr(route, "methods", None) or ())
        return
    for ctx in iter_route_contexts(routes):
        yield ctx.original_route, ctx.path, set(ctx.methods or ())


def json_body_routes(routes: Sequence[BaseRoute]) -> list[JsonRoute]:
    """The routes among ``routes`` (included routers too) that take a JSON body."""
    found: list[JsonRoute] = []
    for original, path, methods in _flat(routes):
        if isinstance(original, APIRoute) and path and takes_json(original):
            regex, _format, _convertors = compile_path(path)
            found.append(JsonRoute(path, frozenset(methods), regex))
    return found


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class JsonRouteIndex:
    """Whether a request reaches a route that takes JSON, in one regular-expression match
    per request: each method's route patterns joined into one (a request to none of them,
    such as a form post to the token endpoint, was tried against every one in turn)."""

    def __init__(self, routes: Sequence[JsonRoute]) -> None:
        patterns: dict[str, list[str]] = {}
        for route in routes:
            unnamed = _NAMED_GROUP.sub("(?:", route.regex.pattern)  # names repeat across routes
            for method in route.methods:
                patterns.setdefault(method, []).append(f"(?:{unnamed})")
        self._by_method = {m: re.compile("|".join(p)) for m, p in patterns.items()}

    def matches(self, method: str, path: str) -> bool:
        """Whether a request of ``method`` on ``path`` reaches one of the routes."""
        pattern = self._by_method.get(method)
        return pattern is not None and pattern.match(path) is not None


def json_route_index(app: ASGIApp | None) -> JsonRouteIndex:
    """The index of ``app``'s JSON routes (none for an app that is not FastAPI)."""
    return JsonRouteIndex(json_body_routes(app.routes) if isinstance(app, FastAPI) else ())


def is_json(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` value is ``application/json`` (parameters allowed)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == JSON


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


class JsonBodyMiddleware:
    """Answers 415 when a JSON route gets a body in another media type (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: JsonRouteIndex | None = None

    def _json_routes(self, scope: Scope) -> JsonRouteIndex:
        if self._routes is None:
            self._routes = json_route_index(scope.get("app"))
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in BODY_METHODS
            and _has_body(scope)
            and not is_json(_header(scope, b"content-type"))
            and self._json_routes(scope).matches(scope["method"], scope["path"])
        ):
            response = error_response(415, "unsupported_media_type", MESSAGE)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
