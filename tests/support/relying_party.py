"""
A small relying party, as a web developer would write one with a well-kept client library:
Starlette with Authlib's OpenID Connect client (discovery, PKCE S256, nonce, ID-token
verification against the provider's JWKS), a server-side session in a signed cookie, and
RP-initiated logout. Tests start it on its own loopback port beside a Charter deployment.
"""

from __future__ import annotations

import html
import secrets
from typing import Any

from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route


def relying_party(issuer: str, client_id: str, base: str) -> Starlette:
    """The relying party's app: ``/`` (who is signed in), ``/login``, ``/callback``,
    ``/logout`` and ``/bye`` (where logout returns)."""
    oauth = OAuth()
    oauth.register(
        "charter",
        client_id=client_id,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "none",
        },
    )

    def page(title: str, body: str) -> HTMLResponse:
        return HTMLResponse(
            f"<!doctype html><html lang=en><title>{title}</title><main><h1>{title}</h1>"
            f"{body}</main></html>"
        )

    async def home(request: Request) -> Response:
        sub = request.session.get("sub")
        if not sub:
            return page("Band", '<p>Not signed in.</p><a href="/login">Sign in with Charter</a>')
        return page(
            "Band",
            f'<p>Signed in as <output id="sub">{html.escape(sub)}</output></p>'
            f'<p>Nickname: <span id="nickname">{html.escape(request.session.get("nickname") or "")}</span></p>'
            '<a href="/logout">Sign out</a>',
        )

    async def login(request: Request) -> Response:
        client = oauth.create_client("charter")
        assert client is not None
        return await client.authorize_redirect(  # type: ignore[no-any-return]
            request, f"{base}/callback", nonce=secrets.token_urlsafe(16)
        )

    async def callback(request: Request) -> Response:
        client = oauth.create_client("charter")
        assert client is not None
        if request.query_params.get("error"):
            error = html.escape(request.query_params["error"])
            return page("Band", f'<p>Not signed in.</p><p id="error">{error}</p>')
        if request.query_params.get("iss") != issuer:  # RFC 9207: which provider answered
            return page("Refused", "<p>The answer did not come from the expected provider.</p>")
        token: dict[str, Any] = await client.authorize_access_token(request)
        claims = token["userinfo"]  # the verified ID token's claims (signature, iss, aud, nonce)
        info = await client.userinfo(token=token)
        request.session.update(
            sub=claims["sub"], id_token=token["id_token"], nickname=info.get("nickname")
        )
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        hint = request.session.get("id_token", "")
        request.session.clear()
        client = oauth.create_client("charter")
        assert client is not None
        meta = await client.load_server_metadata()
        target = httpx_url(
            meta["end_session_endpoint"],
            id_token_hint=hint,
            post_logout_redirect_uri=f"{base}/bye",
            state="rp-state-7",
        )
        return RedirectResponse(target, status_code=303)

    async def bye(request: Request) -> Response:
        state = html.escape(request.query_params.get("state", ""))
        return page("Signed out", f'<p>You left Band. <span id="state">{state}</span></p>')

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/callback", callback),
            Route("/logout", logout),
            Route("/bye", bye),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_urlsafe(32),
                session_cookie="band_session",
            )
        ],
    )


def httpx_url(base: str, **params: str) -> str:
    """``base`` with query parameters."""
    import httpx  # noqa: PLC0415

    return str(httpx.URL(base, params=params))
