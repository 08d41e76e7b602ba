"""
What a browser meets at the provider: the authorization request (sign in when needed, with
``prompt`` and ``max_age`` honoured, then consent, then back to the app) and RP-initiated
logout. The router turns each :data:`Outcome` into an HTTP response; nothing here knows HTTP.

The browser session is the Privacy Center's own (:mod:`charter.services.account.browser`):
signing in for an app is signing in to the Privacy Center, and signing out at either, or
through an app's logout request, ends both.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError

from charter.services.account.browser import BrowserSession, BrowserSessions
from charter.services.account.sessions import SessionInfo
from charter.services.oauth.clients import Client, origin_of
from charter.services.oauth.logout import LogoutRequest
from charter.services.oauth.model import EndUser
from charter.services.oauth.outcomes import (
    Answer,
    ConfirmLogout,
    Consent,
    Outcome,
    SignedOut,
    SignIn,
    Stop,
)
from charter.services.oauth.requests import OAuthRequest

if TYPE_CHECKING:
    from charter.services.oauth.provider import OAuthProvider

MICROS = 1_000_000
AUTHORIZE_PATH = "/oauth/authorize"


def request_params(request: OAuthRequest) -> list[tuple[str, str]]:
    """The protocol parameters of a request, without the page's own fields, sorted."""
    return sorted(
        (k, v)
        for k, vs in request.payload.datalist.items()
        for v in vs
        if k not in ("csrf", "decision")
    )


def _digest(request: OAuthRequest) -> str:
    return hashlib.sha256(urlencode(request_params(request)).encode()).hexdigest()


class AuthorizationFlow:
    """The browser side of the provider."""

    def __init__(self, provider: OAuthProvider, browser: BrowserSessions) -> None:
        self.provider = provider
        self.browser = browser

    # -- /oauth/authorize -------------------------------------------------------------------

    def authorize(
        self, request: OAuthRequest, session: BrowserSession, decision: str | None
    ) -> Outcome:
        """One step of an authorization request: ``decision`` is the consent form's answer
        (``allow`` or ``deny``), ``None`` when the request arrives from the app."""
        provider = self.provider
        info = self.browser.account(session)
        user = EndUser(info.subject_id, info.auth_time) if info else None
        try:
            grant = provider.validate_authorization(request, user)
        except OAuth2Error as error:
            if getattr(error, "redirect_uri", None):
                return Answer(provider.error_response(request, error))
            return Stop(error.error or "invalid_request", str(error.description or ""))
        redirect_uri = grant.redirect_uri
        data = request.payload.data
        prompts = set((data.get("prompt") or "").split())
        max_age = _max_age(data.get("max_age"))
        if max_age == -1:
            return Answer(
                provider.error_response(
                    request,
                    _invalid("max_age must be a whole number of seconds", redirect_uri),
                )
            )
        if info is not None and self._needs_login(request, session, info, prompts, max_age):
            info = user = None
        if info is None or user is None:
            if "none" in prompts:
                return Answer(
                    provider.error_response(request, LoginRequiredError(redirect_uri=redirect_uri))
                )
            session.return_to = _return_path(request)
            session.reauth = {
                "request": _digest(request),
                "since": provider.clock(),
                "origin": origin_of(redirect_uri),
            }
            session.dirty = True
            return SignIn(session.return_to, grant.client.name)
        scope = data.get("scope") or ""
        if decision is None:
            if provider.has_consent(user.subject_id, grant.client.client_id, scope) and (
                "consent" not in prompts
            ):
                return self._issue(request, session, grant, user)
            if "none" in prompts:
                return Answer(
                    provider.error_response(
                        request, ConsentRequiredError(redirect_uri=redirect_uri)
                    )
                )
            return Consent(
                grant.client.name,
                "profile" in scope.split(),
                request_params(request),
                provider.csrf_token(info.session_id, request),
                origin_of(redirect_uri),
            )
        if not provider.check_csrf(info.session_id, request, request.form.get("csrf", "")):
            return Stop(
                "invalid_request",
                "the consent form expired or was not sent from this page",
                status=403,
            )
        if decision != "allow":
            session.reauth, session.dirty = None, True
            return Answer(provider.authorize(request, grant, None))
        return self._issue(request, session, grant, user)

    def _issue(
        self, request: OAuthRequest, session: BrowserSession, grant: Any, user: EndUser
    ) -> Answer:
        if session.reauth is not None:
            session.reauth, session.dirty = None, True
        return Answer(self.provider.authorize(request, grant, user))

    def _needs_login(
        self,
        request: OAuthRequest,
        session: BrowserSession,
        info: SessionInfo,
        prompts: set[str],
        max_age: int | None,
    ) -> bool:
        """``prompt=login`` and an exceeded ``max_age`` ask for a sign-in after this request
        arrived (OpenID Connect Core 3.1.2.1); one that happened since satisfies them."""
        if "login" not in prompts and max_age is None:
            return False
        marker = session.reauth or {}
        if marker.get("request") == _digest(request) and info.auth_time >= int(
            marker.get("since", 0)
        ):
            return False
        if "login" in prompts or max_age == 0:  # max_age=0 is prompt=login (OIDC Core 3.1.2.1)
            return True
        return max_age is not None and self.provider.clock() - info.auth_time > max_age * MICROS

    # -- /oauth/logout (RP-initiated logout) ------------------------------------------------

    def logout(self, request: LogoutRequest, session: BrowserSession, confirmed: bool) -> Outcome:
        """RP-initiated logout: check what the app sent, then sign out (at once when the
        ``id_token_hint`` names this session's account, else after the person confirms)."""
        provider = self.provider
        checked = request.check(provider)
        if isinstance(checked, Stop):
            return checked
        client, hinted_sub = checked
        info = self.browser.account(session)
        if info is None:
            return SignedOut(request.redirect_to())
        same_person = (
            client is not None
            and hinted_sub is not None
            and hinted_sub == provider.pairwise(client, info.subject_id)
        )
        if not (same_person or confirmed):
            back = request.redirect_to()
            return ConfirmLogout(
                client.name if client else None, request.params(), origin_of(back) if back else None
            )
        self.browser.sign_out(session)
        return SignedOut(request.redirect_to())

    def client_of(self, client_id: str) -> Client | None:
        """A live client, or ``None``."""
        return self.provider.clients.find(client_id)


def _max_age(value: str | None) -> int | None:
    """``max_age`` in seconds; ``None`` when absent, ``-1`` when malformed."""
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 10:
        return -1
    return int(value)


def _invalid(description: str, redirect_uri: str) -> OAuth2Error:
    return InvalidRequestError(description, redirect_uri=redirect_uri)


def _return_path(request: OAuthRequest) -> str:
    """Where the sign-in page sends the person back: this request, as a ``GET``."""
    return AUTHORIZE_PATH + "?" + urlencode(request_params(request))
