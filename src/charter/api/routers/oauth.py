"""
The OAuth 2.0 / OpenID Connect endpoints: ``/oauth/authorize`` (consent screen),
``/oauth/token``, ``/oauth/revoke``, ``/oauth/userinfo``, ``/.well-known/openid-configuration``
and ``/.well-known/jwks.json``.

The person's browser session is an account access token, in the ``charter_session`` cookie
or an ``Authorization: Bearer`` header. Error bodies of the token endpoints follow RFC 6749
(``{"error": ..., "error_description": ...}``).
"""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from charter.api.deps import get_charter
from charter.api.errors import responses
from charter.errors import AuthError, InputError
from charter.services.account.sessions import SessionInfo
from charter.services.oauth import pages
from charter.services.oauth.model import EndUser
from charter.services.oauth.provider import OAuthProvider
from charter.services.oauth.requests import OAuthRequest

router = APIRouter(tags=["oauth"])
COOKIE = "charter_session"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}


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
    payload = body if isinstance(body, str) else json.dumps(body)
    header_map.update(NO_STORE)
    header_map.pop("Content-Type", None)
    return Response(payload, status_code=status, headers=header_map, media_type="application/json")


def _browser_session(request: Request) -> SessionInfo | None:
    token = request.cookies.get(COOKIE)
    auth = request.headers.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    if not token:
        return None
    try:
        return get_charter(request).accounts.authenticate(token)
    except AuthError:
        return None


PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": "An error page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    for code in (400, 401, 403)
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


def _error_page(code: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(pages.error_page(code), status_code=status, headers=PAGE_HEADERS)


@router.get("/oauth/authorize", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def authorize(request: Request) -> Response:
    """Show the consent screen, or go straight back to the app when it is already authorized."""
    provider = _provider(request)
    try:
        oreq = await _oauth_request(request, provider)
    except InputError as error:
        return _error_page(error.code, 400)
    return await run_in_threadpool(_authorize, request, provider, oreq, None)


@router.post("/oauth/authorize", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def authorize_decision(request: Request) -> Response:
    """The consent form: allow or deny."""
    provider = _provider(request)
    try:
        oreq = await _oauth_request(request, provider)
    except InputError as error:
        return _error_page(error.code, 400)
    return await run_in_threadpool(
        _authorize, request, provider, oreq, oreq.form.get("decision", "")
    )


def _authorize(
    request: Request, provider: OAuthProvider, oreq: OAuthRequest, decision: str | None
) -> Response:
    session = _browser_session(request)
    user = EndUser(session.subject_id, session.auth_time) if session else None
    try:
        grant = provider.validate_authorization(oreq, user)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return _respond(provider.error_response(oreq, error))
        return _error_page(error.error)
    if session is None or user is None:
        return _error_page("login_required", 401)
    scope = oreq.payload.data.get("scope") or ""
    if decision is None:
        if (
            provider.has_consent(user.subject_id, grant.client.client_id, scope)
            and oreq.payload.data.get("prompt") != "consent"
        ):
            return _respond(provider.authorize(oreq, grant, user))
        params = [(k, v) for k, vs in oreq.payload.datalist.items() for v in vs]
        html = pages.consent_page(
            client_name=grant.client.name,
            profile="profile" in scope.split(),
            params=params,
            csrf=provider.csrf_token(session.session_id, oreq),
            action="/oauth/authorize",
        )
        return HTMLResponse(html, headers=PAGE_HEADERS)
    if not provider.check_csrf(session.session_id, oreq, oreq.form.get("csrf", "")):
        return _error_page("forbidden", 403)
    return _respond(provider.authorize(oreq, grant, user if decision == "allow" else None))


@router.post("/oauth/token", responses=OAUTH_ERRORS)
async def token(request: Request) -> Response:
    """The token endpoint: authorization_code (with PKCE) and refresh_token grants."""
    provider = _provider(request)
    oreq = await _oauth_request(request, provider)
    return _respond(await run_in_threadpool(provider.token, oreq))


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
