"""
:class:`WebRoute`: how every Privacy Center route answers errors and saves the session.

- nobody signed in: a redirect to the sign-in page;
- a :class:`~charter.errors.CharterError` after a form post: back to the page with the
  error's message; on a page view: an error page with the message (never a stack trace);
- malformed form input: a readable message;
- anything else: a plain "something went wrong" page, logged by type only (no values).

The session cookie is written onto whatever response leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from charter.errors import AuthError, CharterError, NotFoundError, RefusedError
from charter.store.faults import is_constraint_violation
from charter.web.deps import SignInRequiredError, redirect, render, save_session, web_session

log = logging.getLogger("charter.web")

CONFLICT_MESSAGE = "This changed meanwhile, so nothing was saved; reload the page and try again."

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_STATUS: tuple[tuple[type[CharterError], int], ...] = (
    (NotFoundError, 404),
    (AuthError, 403),
    (RefusedError, 403),
)


def status_of(exc: CharterError) -> int:
    """The HTTP status of an error page."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def _back(request: Request) -> str:
    """The page a form was posted from (same site only), else the home page."""
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc and parts.path.startswith("/"):
            return parts.path + (f"#{parts.fragment}" if parts.fragment else "")
    return "/"


def message_of(exc: CharterError) -> str:
    """A sentence for people: the error's message, capitalised and ended."""
    text = exc.message.strip() or "something went wrong"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class WebRoute(APIRoute):
    """An API route that answers the way a web page should."""

    def get_route_handler(self) -> Handler:
        """The route's handler, wrapped."""
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequiredError:
                session = web_session(request)
                session.say("Please sign in to continue.")
                response = redirect("/signin")
            except RequestValidationError:
                response = _failure(
                    request,
                    "Some fields are missing or not valid; check the form and try again.",
                    400,
                )
            except CharterError as exc:
                response = _failure(request, message_of(exc), status_of(exc))
            except Exception as exc:  # the last resort: no stack trace ever reaches a page
                if is_constraint_violation(exc):  # changed meanwhile (e.g. by another process)
                    response = _failure(request, CONFLICT_MESSAGE, 409)
                    save_session(request, response)
                    return response
                log.error(
                    "unhandled %s on %s %s", type(exc).__name__, request.method, self.path
                )  # no traceback: it may hold personal values
                response = render(
                    request,
                    "error.html",
                    {
                        "message": "Something went wrong on our side. Please try again later.",
                        "status": 500,
                    },
                    status=500,
                )
            save_session(request, response)
            return response

        return wrapped


def _failure(request: Request, message: str, status: int) -> Response:
    if request.method == "POST":
        web_session(request).say(message, "error")
        return redirect(_back(request))
    return render(request, "error.html", {"message": message, "status": status}, status=status)
