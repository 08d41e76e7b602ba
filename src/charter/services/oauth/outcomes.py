"""What one step at the provider's browser endpoints leads to; the router makes each an HTTP
response (:mod:`charter.services.oauth.flow` decides which)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Response = tuple[int, Any, list[tuple[str, str]]]
"""Authlib's answer: status, body, headers."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Authlib's answer (a redirect back to the app, with a code or an error)."""

    response: Response


@dataclass(frozen=True, slots=True)
class SignIn:
    """Send the person to the sign-in page; they come back to ``return_to``."""

    return_to: str
    client_name: str


@dataclass(frozen=True, slots=True)
class Consent:
    """Show the consent screen."""

    client_name: str
    profile: bool
    params: list[tuple[str, str]]
    csrf: str
    redirect_origin: str
    """Where the answer goes (the page's ``form-action`` must allow the redirect there)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """The request cannot continue and must not go back to the app: show a page."""

    error: str
    description: str
    status: int = 400


@dataclass(frozen=True, slots=True)
class ConfirmLogout:
    """Ask whether to sign out (the app's request did not prove it was for this session)."""

    client_name: str | None
    params: list[tuple[str, str]]
    redirect_origin: str | None
    """Where the person goes after signing out, if the app asked to get them back."""


@dataclass(frozen=True, slots=True)
class SignedOut:
    """Signed out; go back to the app (``redirect``) or show the signed-out page."""

    redirect: str | None


Outcome = Answer | SignIn | Consent | Stop | ConfirmLogout | SignedOut
