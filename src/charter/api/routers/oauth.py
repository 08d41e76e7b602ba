"""
The OAuth 2.0 / OpenID Connect endpoints: ``/oauth/authorize`` (sign-in when needed, consent,
back to the app), ``/oauth/logout`` (RP-initiated logout), ``/oauth/token``, ``/oauth/revoke``,
``/oauth/userinfo``, ``/.well-known/openid-configuration`` and ``/.well-known/jwks.json``.

The person's browser session is the Privacy Center's (one opaque ``charter_session`` cookie,
the session on the server; :mod:`charter.services.account.browser`): someone not signed in
is sent to ``/signin`` and comes back here. What each step leads to is decided by
:class:`~charter.services.oauth.flow.AuthorizationFlow`; this module only speaks HTTP. Error
bodies of the token endpoints follow RFC 6749 (``{"error": ..., "error_description": ...}``).
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any
from urllib.parse import parse_qsl

import orjson
from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from charter.api.deps import get_charter
from charter.api.errors import responses
from charter.errors import AuthError, InputError
from charter.services.account.browser import COOKIE, BrowserSession, cookie_options
from charter.services.oauth import pages
from charter.services.oauth.flow import AuthorizationFlow
from charter.services.oauth.logout import LogoutRequest
from charter.services.oauth.outcomes import (
    Answer,
    ConfirmLogout,
    Consent,
    Outcome,
    SignIn,
    Stop,
)
from charter.services.oauth.provider import OAuthProvider
from charter.services.oauth.requests import OAuthRequest

router = APIRouter(tags=["oauth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": f"{_CSP}; form-action 'self'",
}


def _form_page(html: str, redirect_origin: str | None) -> HTMLResponse:
    """A page whose form's answer may redirect to the app (``form-action`` covers the
    redirect after a form post, so the app's origin is allowed beside this site)."""
    targets = "'self'" + (f" {redirect_origin}" if redirect_origin else "")
    return HTMLResponse(
        html,
        headers={**PAGE_HEADERS, "Content-Security-Policy": f"{_CSP}; form-action {targets}"},
    )


def _provider(request: Request) -> OAuthProvider:
    return get_charter(request).oauth


async def _oauth_request(request: Request, provider: OAuthProvider) -> OAuthRequest:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        data = await request.form()
        form = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    uri = (
        provider.issuer + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    )
    try:
        return OAuthRequest(
            request.method, uri, request.headers, list(request.query_params.multi_items()), form
        )
    except OAuth2Error as error:  # e.g. plain http to a non-loopback issuer
        raise InputError(
            "OAuth endpoints must be reached over HTTPS (http://localhost only for development); "
            "set CHARTER_ISSUER to the server's public https URL",
            code=error.error or "invalid_request",
        ) from None


def _respond(result: tuple[int, Any, list[tuple[str, str]]]) -> Response:
    status, body, headers = result
    header_map = dict(headers)
    if status in (301, 302, 303, 307) and "Location" in header_map:
        return RedirectResponse(header_map["Location"], status_code=302, headers=NO_STORE)
    payload = body if isinstance(body, str) else orjson.dumps(body)
    header_map.update(NO_STORE)
    header_map.pop("Content-Type", None)
    return Response(payload, status_code=status, headers=header_map, media_type="application/json")


def _flow(request: Request) -> AuthorizationFlow:
    charter = get_charter(request)
    return AuthorizationFlow(charter.oauth, charter.accounts.browser)


def _session(request: Request) -> BrowserSession:
    browser = get_charter(request).accounts.browser
    return browser.load(request.cookies.get(COOKIE)) or browser.new()


def _save(request: Request, session: BrowserSession, response: Response) -> Response:
    """Store the browser session; send the cookie when its id is new."""
    charter = get_charter(request)
    changed = session.cookie_changed
    charter.accounts.browser.save(session)
    if changed:
        options = cookie_options(scheme=request.url.scheme, issuer=charter.settings.issuer)
        response.set_cookie(COOKIE, session.token, **options)
    return response


def _page(outcome: Outcome, session: BrowserSession) -> Response:
    """The HTTP response of one step."""
    if isinstance(outcome, Answer):
        return _respond(outcome.response)
    if isinstance(outcome, SignIn):
        session.say(f"Sign in to continue to {outcome.client_name}.")
        return RedirectResponse("/signin", status_code=303, headers=NO_STORE)
    if isinstance(outcome, Consent):
        html = pages.consent_page(
            client_name=outcome.client_name,
            profile=outcome.profile,
            params=outcome.params,
            csrf=outcome.csrf,
            action="/oauth/authorize",
        )
        return _form_page(html, outcome.redirect_origin)
    if isinstance(outcome, Stop):
        return _error_page(outcome.error, outcome.description, outcome.status)
    if isinstance(outcome, ConfirmLogout):
        html = pages.logout_page(
            client_name=outcome.client_name, params=outcome.params, csrf=session.csrf
        )
        return _form_page(html, outcome.redirect_origin)
    if outcome.redirect is not None:
        return RedirectResponse(outcome.redirect, status_code=303, headers=NO_STORE)
    return HTMLResponse(pages.signed_out_page(), headers=PAGE_HEADERS)


PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": "An error page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    for code in (400, 403)
}


_OAUTH_ERROR_BODY = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    "required": ["error"],
}
OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    **{
        code: {
            "description": "An OAuth error (RFC 6749 section 5.2, RFC 6750 section 3).",
            "content": {"application/json": {"schema": _OAUTH_ERROR_BODY}},
        }
        for code in (400, 401, 403)
    },
    **responses(422),
}


def _error_page(code: str, description: str = "", status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        pages.error_page(code, description), status_code=status, headers=PAGE_HEADERS
    )


@router.get("/oauth/authorize", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def authorize(request: Request) -> Response:
    """Start or resume an authorization request: the sign-in page when nobody is signed in
    (or ``prompt=login`` / ``max_age`` ask for a new sign-in), then the consent screen, then
    back to the app with a code (at once when the person consented before)."""
    provider = _provider(request)
    try:
        oreq = await _oauth_request(request, provider)
    except InputError as error:
        return _error_page(error.code, error.message)
    return await run_in_threadpool(_authorize, request, oreq, None)


@router.post("/oauth/authorize", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def authorize_decision(request: Request) -> Response:
    """The consent form (allow or deny), or an authorization request sent by POST."""
    provider = _provider(request)
    try:
        oreq = await _oauth_request(request, provider)
    except InputError as error:
        return _error_page(error.code, error.message)
    decision = oreq.form.get("decision")
    return await run_in_threadpool(_authorize, request, oreq, decision)


def _authorize(request: Request, oreq: OAuthRequest, decision: str | None) -> Response:
    session = _session(request)
    outcome = _flow(request).authorize(oreq, session, decision)
    return _save(request, session, _page(outcome, session))


@router.get("/oauth/logout", response_class=HTMLResponse, responses=PAGE_ERRORS)
def logout(request: Request) -> Response:
    """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the person's
    Charter session in this browser, then back to the app's registered
    ``post_logout_redirect_uri`` (with ``state``)."""
    return _logout(request, dict(request.query_params), confirmed=False)


@router.post("/oauth/logout", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def logout_post(request: Request) -> Response:
    """RP-initiated logout by POST, and the "Sign out?" confirmation form."""
    form = await request.form()
    params = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return await run_in_threadpool(_logout_form, request, params)


def _logout_form(request: Request, params: dict[str, str]) -> Response:
    session = _session(request)
    confirmed = params.get("confirm") == "yes"
    if confirmed and not hmac.compare_digest(
        params.get("csrf", "").encode(), session.csrf.encode()
    ):
        return _error_page("invalid_request", "the sign-out form expired; start again", 403)
    return _logout(request, params, confirmed=confirmed, session=session)


def _logout(
    request: Request,
    params: dict[str, str],
    *,
    confirmed: bool,
    session: BrowserSession | None = None,
) -> Response:
    session = session or _session(request)
    outcome = _flow(request).logout(LogoutRequest.of(params), session, confirmed)
    return _save(request, session, _page(outcome, session))


@router.post("/oauth/token", responses=OAUTH_ERRORS)
async def token(request: Request) -> Response:
    """The token endpoint: authorization_code (with PKCE) and refresh_token grants."""
    provider = _provider(request)
    form = await _plain_form(request)
    future = None if form is None else provider.fast_refresh.submit_form(form, request.headers)
    if future is not None:
        # a plain refresh: one unit of the group commit, then its ID token signed, awaited
        # here without a worker thread; shielded, so a client that goes away does not
        # cancel a rotation already queued (its successor pair is stored either way)
        answer = await asyncio.shield(asyncio.wrap_future(future))
        if answer is not None:
            return _respond(answer)
    oreq = await _oauth_request(request, provider)
    return _respond(await run_in_threadpool(provider.grant_token, oreq))


_URLENCODED = "application/x-www-form-urlencoded"
_PLAIN_FORM_MAX = 8192


async def _plain_form(request: Request) -> list[tuple[str, str]] | None:
    """The fields of a short ASCII url-encoded body of a request without a query string, as
    Starlette's form parser reads them (None for any other request: the request then goes
    the general way, through Starlette's parser and an :class:`OAuthRequest`)."""
    if request.scope.get("query_string") or request.headers.get("content-type") != _URLENCODED:
        return None
    body = await request.body()  # kept by Starlette: the general way reads it again
    if len(body) > _PLAIN_FORM_MAX or not body.isascii() or b";" in body:
        return None
    return parse_qsl(body.decode("ascii"), keep_blank_values=True)


@router.post("/oauth/revoke", responses=OAUTH_ERRORS)
async def revoke(request: Request) -> Response:
    """Token revocation (RFC 7009): the token's whole family ends."""
    provider = _provider(request)
    oreq = await _oauth_request(request, provider)
    return _respond(await run_in_threadpool(provider.revoke, oreq))


@router.get("/oauth/userinfo", responses=OAUTH_ERRORS)
def userinfo(request: Request) -> Response:
    """The claims of an OAuth access token: pairwise ``sub``, nickname and picture."""
    return _userinfo(request)


@router.post("/oauth/userinfo", responses=OAUTH_ERRORS)
def userinfo_post(request: Request) -> Response:
    """The userinfo endpoint by POST (OpenID Connect Core §5.3.1)."""
    return _userinfo(request)


def _userinfo(request: Request) -> Response:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    try:
        claims = _provider(request).userinfo(auth[7:].strip())
    except AuthError:
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return JSONResponse(claims, headers=NO_STORE)


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> dict[str, Any]:
    """OpenID Provider metadata."""
    return _provider(request).discovery()


@router.get("/.well-known/jwks.json")
def jwks(request: Request) -> dict[str, Any]:
    """The public signing keys (several during a rotation)."""
    return _provider(request).keystore.public_jwks()
