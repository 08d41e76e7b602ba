"""
The Privacy Center's side of the browser session.

The session itself lives on the server (:mod:`charter.services.account.browser`); the
browser holds an opaque id in one cookie, shared with the OpenID provider's pages, so
signing in or out at either is signing in or out at both.

Every ``POST`` form carries the session's CSRF token (``<input name="csrf">``);
:func:`check_csrf` compares it with the session's in constant time.
"""

from __future__ import annotations

import hmac

from charter.errors import AuthError
from charter.services.account.browser import COOKIE, BrowserSession

__all__ = ["COOKIE", "BrowserSession", "check_csrf"]


def check_csrf(session: BrowserSession | None, submitted: object) -> None:
    """
    Raises:
        AuthError: the form's CSRF token is missing or does not match the session's.
    """
    if (
        session is None
        or not isinstance(submitted, str)
        or not hmac.compare_digest(submitted.encode(), session.csrf.encode())
    ):
        raise AuthError("this form has expired; reload the page and try again", code="csrf_failed")
