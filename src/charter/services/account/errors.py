"""
Errors of the account and OAuth services, under Charter's one tree.

``ThrottledError`` and ``BusyError`` are refusals (``RefusedError``) that the account and
OAuth routers answer with 429 and 503 and a ``Retry-After`` header; ``AuthError`` covers
bad credentials with one generic message, so that messages never tell whether an account
exists.
"""

from __future__ import annotations

from charter.errors import AuthError, RefusedError

INVALID_CREDENTIALS = "the identifier or the password is wrong"


class ThrottledError(RefusedError):
    """Too many failures: try again after ``retry_after`` seconds."""

    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many attempts; wait before trying again", field=None)
        self.retry_after = max(1, int(retry_after))


class BusyError(RefusedError):
    """The server sheds sign-ins because password hashing is saturated."""

    code = "busy"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the server is busy; try again shortly")
        self.retry_after = retry_after


class StepUpRequiredError(RefusedError):
    """The operation needs a fresh authentication (step-up) first."""

    code = "step_up_required"


def invalid_credentials() -> AuthError:
    """The one error for every failed sign-in, whatever the cause."""
    return AuthError(INVALID_CREDENTIALS, code="invalid_credentials")
