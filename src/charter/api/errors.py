"""
Errors → HTTP: one table from error class to status code, and one JSON shape for all.

Every error response, whatever raised it, has the body::

    {"error": {"code": "<machine code>", "message": "<sentence>", "field": "<dotted path|null>"}}

Messages never echo request values or personal data. Server-side failures (configuration,
integrity, anything unexpected) get a generic message; their details go only to the server
log, as the exception type and stack frames (no exception message, no local variables).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.errors import (
    AuthError,
    CatalogError,
    CharterError,
    ConfigError,
    InputError,
    IntegrityError,
    NotFoundError,
    RefusedError,
)
from charter.services.account.errors import BusyError, ThrottledError
from charter.store.faults import (
    is_constraint_violation,
    is_database_unavailable,
    is_storage_full,
)

logger = logging.getLogger("charter.api")

STATUS_BY_ERROR: Mapping[type[CharterError], int] = {
    ThrottledError: 429,
    BusyError: 503,
    InputError: 422,
    RefusedError: 403,
    NotFoundError: 404,
    AuthError: 401,
    ConfigError: 500,
    IntegrityError: 500,
    CatalogError: 500,
    CharterError: 500,
}
"""The one table: error class → HTTP status (the closest class in the MRO wins)."""

GENERIC_STATUSES = frozenset({500})
"""Statuses whose message is replaced by a generic one (details stay in the server log)."""

GENERIC_MESSAGE = "internal error; the operator can find details in the server log"
WWW_AUTHENTICATE = 'Bearer realm="charter"'

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


class ErrorDetail(BaseModel):
    """What went wrong."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        description="Stable machine-readable code, e.g. `invalid_input`, `consent_required`.",
        examples=["consent_required"],
    )
    message: str = Field(
        description="A human sentence; never contains request values or personal data.",
        examples=["cloud has no authorization from this subject"],
    )
    field: str | None = Field(
        description="Dotted location of the offending input, if any.", examples=["events.3.purpose"]
    )


class ErrorBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error response in the one shape (with ``WWW-Authenticate`` on 401)."""
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return JSONResponse(
        error_body(code, message, field), status_code=status, headers=all_headers or None
    )


def status_of(exc: CharterError) -> int:
    """The HTTP status of a Charter error, from :data:`STATUS_BY_ERROR`."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 500


def charter_error_response(exc: CharterError) -> JSONResponse:
    """The response for a Charter error."""
    status = status_of(exc)
    if status in GENERIC_STATUSES:
        _log_failure(exc, "charter error")
        return error_response(status, "internal_error", GENERIC_MESSAGE)
    headers = None
    if status == 401:
        error = "invalid_token" if exc.code == "invalid_token" else None
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE + (f', error="{error}"' if error else "")}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers = {**(headers or {}), "Retry-After": str(retry_after)}
    return error_response(status, exc.code, exc.message, exc.field, headers)


MAP_FIELDS = frozenset({"changes"})
"""Request fields that are JSON objects keyed by client input: a location stops at them,
since the keys after them are input values and must not be echoed."""


def dotted(
    loc: Iterable[int | str], *, drop: Sequence[str] = ("body", "query", "path", "header", "cookie")
) -> str | None:
    """
    A pydantic error location as a dotted path without its source, e.g. ``events.3.purpose``.

    The path stops at a field of :data:`MAP_FIELDS` (``changes``, not ``changes.<key>``).
    """
    parts = [str(p) for p in loc]
    if parts and parts[0] in drop:
        parts = parts[1:]
    for i, part in enumerate(parts):
        if part in MAP_FIELDS:
            parts = parts[: i + 1]
            break
    return ".".join(parts) or None


_MESSAGES = {
    "missing": "this field is required",
    "extra_forbidden": "this field is not allowed",
    "json_invalid": "the body is not valid JSON",
    "json_type": "the body must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
}


def validation_message(error: Mapping[str, Any]) -> str:
    """
    A message for one pydantic error that never echoes the input.

    pydantic-core's own messages are templates over the constraint (expected values,
    pattern, limits), not the input, so they are used for everything not listed above.
    """
    return _MESSAGES.get(str(error.get("type")), str(error.get("msg", "invalid value")))


def validation_response(errors: Sequence[Mapping[str, Any]]) -> JSONResponse:
    """A 422 response for pydantic errors: the first error, located by a dotted path."""
    if not errors:
        return error_response(422, "invalid_input", "the request is invalid")
    first = errors[0]
    message = validation_message(first)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return error_response(422, "invalid_input", message, dotted(first.get("loc", ())))


async def _on_charter_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CharterError)
    return charter_error_response(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError | ValidationError)
    return validation_response(list(exc.errors()))


async def _on_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = {404: "no such resource", 405: "method not allowed on this resource"}.get(
        exc.status_code, code.replace("_", " ")
    )
    if isinstance(exc, BodyTooLargeError):
        message = exc.detail
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, code, message, None, headers)


def _log_failure(exc: BaseException, what: str) -> None:
    """Log a failure as its type and stack frames only: messages may carry values."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames)


class BodyTooLargeError(StarletteHTTPException):
    """A request body passed its route's limit while streaming (see :mod:`charter.api.limits`)."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


STORAGE_FULL_MESSAGE = (
    "storage is full, so nothing of this request was stored; retry after Retry-After "
    "seconds (the operator must free space)"
)
STORAGE_RETRY_AFTER = 30


def storage_full_response() -> JSONResponse:
    """507 ``storage_full``: the write was rolled back because a disk or database is full."""
    headers = {"Retry-After": str(STORAGE_RETRY_AFTER)}
    return error_response(507, "storage_full", STORAGE_FULL_MESSAGE, None, headers)


DATABASE_UNAVAILABLE_MESSAGE = (
    "a database is unavailable, so nothing of this request was stored; retry after "
    "Retry-After seconds"
)
DATABASE_RETRY_AFTER = 5


CONFLICT_MESSAGE = (
    "the request conflicts with the data's current state (it changed meanwhile, perhaps "
    "in another process); nothing was stored: reload and try again"
)


def conflict_response() -> JSONResponse:
    """409 ``conflict``: a database constraint refused the write (e.g. the subject was erased
    meanwhile); the transaction rolled back."""
    return error_response(409, "conflict", CONFLICT_MESSAGE)


def database_unavailable_response() -> JSONResponse:
    """503 ``database_unavailable``: a database server could not be reached or was lost."""
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    return error_response(503, "database_unavailable", DATABASE_UNAVAILABLE_MESSAGE, None, headers)


def failure_response(exc: Exception, scope: Scope) -> Response:
    """
    The answer to an exception that escaped a route, logged here (type and frames only): a
    full disk or database is 507 ``storage_full`` with ``Retry-After`` (and marks the app's
    ``storage_full_at``), a database that cannot be reached 503, a constraint violation 409
    ``conflict``, anything else a generic 500.
    """
    full = is_storage_full(exc)
    gone = not full and is_database_unavailable(exc)
    conflict = not (full or gone) and is_constraint_violation(exc)
    _log_failure(
        exc,
        "storage full"
        if full
        else "database unavailable"
        if gone
        else "constraint violation"
        if conflict
        else "unhandled error",
    )
    if conflict:
        return conflict_response()
    if gone:
        return database_unavailable_response()
    if full:
        app = scope.get("app")
        if app is not None:
            app.state.storage_full_at = time.monotonic()
        return storage_full_response()
    return error_response(500, "internal_error", GENERIC_MESSAGE)


async def call_catching(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app`` on an HTTP request; answer an exception it raises with
    :func:`failure_response` (or, once the response has started, end it with an error)."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, tracking_send)
    except Exception as exc:
        response = failure_response(exc, scope)
        if started:
            raise RuntimeError("response already started") from None
        await response(scope, receive, send)


class CatchAllMiddleware:
    """
    Turn any unexpected exception into a generic 500 in the one shape, a full disk or
    database into 507 ``storage_full`` with ``Retry-After``, and a database constraint
    violation into 409 ``conflict`` (never a 500): :func:`call_catching`.

    Sits inside Starlette's ``ServerErrorMiddleware`` so that the exception is answered and
    logged here (type and frames only) instead of re-raised with its message to the server log.
    The deployment's app does the same inside :class:`charter.api.edge.EdgeMiddleware`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await call_catching(self.app, scope, receive, send)


def install_handlers(app: FastAPI) -> None:
    """Install the exception handlers on an app (the error shape of every handled error)."""
    app.add_exception_handler(CharterError, _on_charter_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)


def install(app: FastAPI) -> None:
    """Install the handlers and the catch-all middleware on an app."""
    install_handlers(app)
    app.add_middleware(CatchAllMiddleware)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorBody,
        "description": "Missing, malformed, unknown, revoked or expired credential.",
        "headers": {
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "description": '`Bearer realm="charter"`',
            }
        },
    },
    403: {
        "model": ErrorBody,
        "description": "Refused: `code` is the policy reason (e.g. `consent_required`).",
    },
    404: {"model": ErrorBody, "description": "No such subject or resource (or not yours)."},
    409: {
        "model": ErrorBody,
        "description": "Conflict with the data's current state (e.g. the subject was erased "
        "meanwhile): nothing was stored.",
    },
    422: {"model": ErrorBody, "description": "Malformed request; `field` is the dotted location."},
    429: {
        "model": ErrorBody,
        "description": "Too many attempts; wait `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds."}},
    },
    503: {
        "model": ErrorBody,
        "description": "Busy (sign-ins are being shed); retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds."}},
    },
    500: {"model": ErrorBody, "description": "Internal error (generic message)."},
    507: {
        "model": ErrorBody,
        "description": "Storage is full: nothing was stored; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds."}},
    },
}
"""OpenAPI ``responses`` for the errors every authenticated route can return."""


def response_doc(status: int, description: str = "Malformed request.") -> dict[str, Any]:
    """A raw OpenAPI response object in the error shape (for documents patched after generation)."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI error responses of some statuses."""
    return {s: ERROR_RESPONSES[s] for s in statuses}
