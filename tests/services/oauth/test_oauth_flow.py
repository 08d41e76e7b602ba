"""
T11: the OAuth 2.0 / OpenID Connect provider, in process — the code flow with PKCE, and every
negative case of RFC 9700 the issue lists, each refused with the right OAuth error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from charter.services.oauth import OAuthProvider
from support.accounts import Account, cookie_of

REDIRECT = "https://app.example.com/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def auth_params(client_id: str, challenge: str | None, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st-123",
        "nonce": secrets.token_urlsafe(8),
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def consent(client: Any, token: str, params: dict[str, str], decision: str = "allow") -> Any:
    """Open the consent page as the signed-in person and answer it; returns the final response."""
    page = client.get(
        "/oauth/authorize",
        params=params,
        headers={"Cookie": f"charter_session={token}"},
        follow_redirects=False,
    )
    if page.status_code != 200:
        return page
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = {k: unescape(v) for k, v in form.items()}
    form["decision"] = decision
    return client.post(
        "/oauth/authorize",
        data=form,
        headers={"Cookie": f"charter_session={token}"},
        follow_redirects=False,
    )


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def exchange(client: Any, client_id: str, code: str, verifier: str | None, **extra: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        **extra,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data)


def refresh_grant(client: Any, client_id: str, refresh_token: str, **kwargs: Any) -> Any:
    """``POST /oauth/token`` with a refresh grant (``kwargs`` go to the post, e.g. headers)."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return client.post("/oauth/token", data=data, **kwargs)


@pytest.fixture
def app_client(provider: OAuthProvider) -> str:
    return provider.clients.add("Band App", [REDIRECT]).client.client_id


def full_flow(client: Any, account: Account, client_id: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = code_from(consent(client, cookie_of(client, account), auth_params(client_id, challenge)))
    response = exchange(client, client_id, code, verifier)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_code_flow_with_pkce_issues_tokens_and_pairwise_id_token(
    client: Any, alice: Account, app_client: str, provider: OAuthProvider
) -> None:
    tokens = full_flow(client, alice, app_client)
    assert {"access_token", "refresh_token", "id_token", "expires_in"} <= set(tokens)
    jwks = client.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "RS256"
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    claims = jwt.decode(
        tokens["id_token"],
        key=key,
        algorithms=["RS256"],
        audience=app_client,
        issuer="https://testserver",
        options={"verify_exp": False},
    )
    assert claims["sub"] != alice.id and alice.id not in tokens["id_token"]
    info = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert info["sub"] == claims["sub"]
    assert set(info) <= {"sub", "nickname", "picture"}


def test_discovery_advertises_only_safe_choices(client: Any) -> None:
    meta = client.get("/.well-known/openid-configuration").json()
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]


def mutations(uri: str) -> list[str]:
    parts = urlsplit(uri)
    out = [
        uri + "/",
        uri + "x",
        uri[:-1],
        uri + "?a=1",
        uri + "#frag",
        uri + "%2F..%2Fevil",
        uri.upper(),
        uri.replace("https", "http"),
        uri.replace("app.example.com", "app.example.com.evil.com"),
        uri.replace("app.example.com", "evil.com"),
        uri.replace("app.example.com", "app.example.co"),
        uri.replace("app.example.com", "APP.EXAMPLE.COM"),
        uri.replace("app.example.com", "app.example.com:443"),
        uri.replace("app.example.com", "app.example.com:8443"),
        uri.replace("app.example.com", "user@app.example.com"),
        uri.replace("app.example.com", "app.example.com@evil.com"),
        uri.replace("/callback", "/callback/../evil"),
        uri.replace("/callback", "/Callback"),
        uri.replace("/callback", "/callback;x"),
        uri.replace("/callback", "//evil.com/callback"),
        uri.replace("/callback", "/callback%00"),
        uri.replace("/callback", "/callback%20"),
        " " + uri,
        uri + " ",
        uri.replace("https://", "https:///"),
        uri.replace("https://", "https:/"),
        uri.replace("https://", "//"),
        uri.replace("https", "javascript"),
        "data:text/html,hi",
        uri.replace("app.", "app-"),
        uri.replace(".com", ".com."),
        uri.replace("example", "examp1e"),
        uri.replace("example", "exаmple"),
        uri + "?redirect=https://evil.com",
        uri + "&",
        uri + "?",
        uri.replace("https://", "https://evil.com/"),
        uri.replace("callback", "callbacks"),
        f"{parts.scheme}://{parts.netloc}",
        f"{parts.scheme}://{parts.netloc}/",
        uri.replace("/callback", "/callback/x"),
        uri.replace("https", "HTTPS"),
        uri.replace("app.example.com", "127.0.0.1"),
        uri.replace("app.example.com", "[::1]"),
        uri.replace("app.example.com", "app.example.com\\@evil.com"),
        uri + "\n",
        uri + "\t",
        "urn:ietf:wg:oauth:2.0:oob",
        uri.replace("app.example.com", "xn--app-example"),
        uri.replace("/callback", "/%63allback"),
    ]
    assert len(set(out)) >= 50
    return list(dict.fromkeys(out))[:50]


def test_fifty_mutated_redirect_uris_are_refused_without_redirecting(
    client: Any, alice: Account, app_client: str
) -> None:
    _, challenge = pkce()
    accepted = 0
    for uri in mutations(REDIRECT):
        response = client.get(
            "/oauth/authorize",
            params=auth_params(app_client, challenge, redirect_uri=uri),
            headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
            follow_redirects=False,
        )
        if response.status_code != 400 or "location" in response.headers:
            accepted += 1
    print(f"redirect_mutations_accepted: {accepted} of 50")
    assert accepted == 0


def test_pkce_is_required_and_only_s256(client: Any, alice: Account, app_client: str) -> None:
    token = cookie_of(client, alice)
    missing = consent(client, token, auth_params(app_client, None))
    assert missing.status_code == 302 and parse_qs(urlsplit(missing.headers["location"]).query)[
        "error"
    ] == ["invalid_request"]
    verifier, _ = pkce()
    plain = consent(
        client,
        token,
        auth_params(app_client, None, code_challenge=verifier, code_challenge_method="plain"),
    )
    assert parse_qs(urlsplit(plain.headers["location"]).query)["error"] == ["invalid_request"]
    defaulted = consent(client, token, auth_params(app_client, None, code_challenge=verifier))
    assert parse_qs(urlsplit(defaulted.headers["location"]).query)["error"] == ["invalid_request"]
    verifier, challenge = pkce()
    code = code_from(consent(client, token, auth_params(app_client, challenge)))
    no_verifier = exchange(client, app_client, code, None)
    assert no_verifier.status_code == 400 and no_verifier.json()["error"] == "invalid_request"
    code = code_from(consent(client, token, auth_params(app_client, challenge)))
    wrong = exchange(client, app_client, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_reused_code_is_refused_and_its_tokens_revoked(
    client: Any, alice: Account, app_client: str
) -> None:
    verifier, challenge = pkce()
    code = code_from(consent(client, cookie_of(client, alice), auth_params(app_client, challenge)))
    first = exchange(client, app_client, code, verifier)
    assert first.status_code == 200
    second = exchange(client, app_client, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    access = first.json()["access_token"]
    assert (
        client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code
        == 401
    )
    refreshed = refresh_grant(client, app_client, first.json()["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


def test_code_expires_within_600_seconds(
    client: Any, alice: Account, app_client: str, clock: Any
) -> None:
    verifier, challenge = pkce()
    code = code_from(consent(client, cookie_of(client, alice), auth_params(app_client, challenge)))
    clock.advance(micros=61 * 1_000_000)
    response = exchange(client, app_client, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_wrong_redirect_uri_at_token_endpoint_and_wrong_client(
    client: Any, alice: Account, app_client: str, provider: OAuthProvider
) -> None:
    verifier, challenge = pkce()
    code = code_from(consent(client, cookie_of(client, alice), auth_params(app_client, challenge)))
    assert (
        exchange(client, app_client, code, verifier, redirect_uri=REDIRECT + "/x").json()["error"]
        == "invalid_grant"
    )
    other = provider.clients.add("Other", ["https://other.example/cb"]).client.client_id
    code = code_from(consent(client, cookie_of(client, alice), auth_params(app_client, challenge)))
    assert exchange(client, other, code, verifier).json()["error"] in (
        "invalid_grant",
        "invalid_client",
    )


def test_implicit_password_and_client_credentials_grants_are_refused(
    client: Any, alice: Account, app_client: str
) -> None:
    _, challenge = pkce()
    implicit = client.get(
        "/oauth/authorize",
        params=auth_params(app_client, challenge, response_type="token"),
        headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
        follow_redirects=False,
    )
    assert implicit.status_code == 302
    assert parse_qs(urlsplit(implicit.headers["location"]).query)["error"] == [
        "unsupported_response_type"
    ]
    hybrid = client.get(
        "/oauth/authorize",
        params=auth_params(app_client, challenge, response_type="code id_token"),
        headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
        follow_redirects=False,
    )
    assert "unsupported_response_type" in hybrid.headers.get("location", "")
    for grant in (
        "password",
        "client_credentials",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ):
        response = client.post(
            "/oauth/token",
            data={
                "grant_type": grant,
                "username": alice.email,
                "password": "x",
                "client_id": app_client,
            },
        )
        assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_and_reuse_revokes_the_family(
    client: Any, alice: Account, app_client: str
) -> None:
    tokens = full_flow(client, alice, app_client)
    r1 = refresh_grant(client, app_client, tokens["refresh_token"]).json()
    assert r1["refresh_token"] != tokens["refresh_token"]
    reuse = refresh_grant(client, app_client, tokens["refresh_token"])
    assert reuse.json()["error"] == "invalid_grant"
    assert (
        client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {r1['access_token']}"}
        ).status_code
        == 401
    )
    r2 = refresh_grant(client, app_client, r1["refresh_token"])
    assert r2.json()["error"] == "invalid_grant"


def test_refresh_family_has_an_absolute_limit(
    client: Any, alice: Account, app_client: str, clock: Any
) -> None:
    tokens = full_flow(client, alice, app_client)
    refresh = tokens["refresh_token"]
    for _ in range(3):
        clock.advance(days=10)
        response = refresh_grant(client, app_client, refresh).json()
        if "error" in response:
            break
        refresh = response["refresh_token"]
    assert response.get("error") == "invalid_grant"  # day 30 is past the absolute limit


def test_revocation_endpoint_kills_the_family(client: Any, alice: Account, app_client: str) -> None:
    tokens = full_flow(client, alice, app_client)
    response = client.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": app_client}
    )
    assert response.status_code == 200
    assert (
        client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 401
    )


def test_consent_is_shown_listed_and_revocable(
    client: Any, alice: Account, app_client: str
) -> None:
    _, challenge = pkce()
    page = client.get(
        "/oauth/authorize",
        params=auth_params(app_client, challenge),
        headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
    )
    assert page.status_code == 200 and "Band App" in page.text and 'name="decision"' in page.text
    denied = consent(
        client, cookie_of(client, alice), auth_params(app_client, challenge), decision="deny"
    )
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]
    tokens = full_flow(client, alice, app_client)
    headers = {"Authorization": f"Bearer {alice.tokens.access_token}"}
    listed = client.get("/v1/account/authorizations", headers=headers).json()
    assert [a["client_id"] for a in listed] == [app_client]
    assert (
        client.delete(f"/v1/account/authorizations/{app_client}", headers=headers).status_code
        == 204
    )
    assert (
        client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 401
    )
    assert client.get("/v1/account/authorizations", headers=headers).json() == []


def test_forged_consent_form_is_refused(client: Any, alice: Account, app_client: str) -> None:
    _, challenge = pkce()
    data = {**auth_params(app_client, challenge), "decision": "allow", "csrf": "0" * 64}
    response = client.post(
        "/oauth/authorize",
        data=data,
        headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "location" not in response.headers


def test_not_signed_in_gets_no_code(client: Any, app_client: str) -> None:
    _, challenge = pkce()
    response = client.get(
        "/oauth/authorize", params=auth_params(app_client, challenge), follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert "code=" not in response.headers["location"]


def test_removed_client_is_refused_and_its_tokens_die(
    client: Any, alice: Account, app_client: str, provider: OAuthProvider
) -> None:
    tokens = full_flow(client, alice, app_client)
    provider.remove_client(app_client)
    assert (
        client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 401
    )
    refresh = refresh_grant(client, app_client, tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_client"
    _, challenge = pkce()
    page = client.get(
        "/oauth/authorize",
        params=auth_params(app_client, challenge),
        headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
        follow_redirects=False,
    )
    assert page.status_code == 400 and "location" not in page.headers


def test_id_token_tampering_none_and_key_confusion_are_rejected(
    client: Any, alice: Account, app_client: str
) -> None:
    tokens = full_flow(client, alice, app_client)
    jwks = client.get("/.well-known/jwks.json").json()
    key = jwt.PyJWK(jwks["keys"][-1])
    header, payload, signature = tokens["id_token"].split(".")
    claims = jwt.decode(
        tokens["id_token"],
        key=key,
        algorithms=["RS256"],
        audience=app_client,
        options={"verify_exp": False},
    )
    forged_payload = base64.urlsafe_b64encode(b'{"sub":"someone-else"}').rstrip(b"=").decode()
    tampered = f"{header}.{forged_payload}.{signature}"
    none = jwt.encode(claims, key=None, algorithm="none")
    public_pem = key.key.public_bytes(
        encoding=Encoding.PEM, format=PublicFormat.SubjectPublicKeyInfo
    )
    confused = (
        base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
        + "."
        + payload
    )
    sig = (
        base64.urlsafe_b64encode(hmac.new(public_pem, confused.encode(), "sha256").digest())
        .rstrip(b"=")
        .decode()
    )
    accepted = 0
    for token in (tampered, none, f"{confused}.{sig}"):
        try:
            jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                audience=app_client,
                options={"verify_exp": False},
            )
            accepted += 1
        except jwt.PyJWTError:
            pass
    assert accepted == 0
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(
            tokens["id_token"],
            key=key,
            algorithms=["RS256"],
            audience="someone-else",
            options={"verify_exp": False},
        )
    assert (
        claims["nonce"]
        and claims["iss"] == "https://testserver"
        and claims["exp"] - claims["iat"] <= 600
    )


@pytest.mark.promise("account.oauth_union_id")
def test_consent_and_userinfo_encode_no_account_id(
    client: Any, alice: Account, app_client: str
) -> None:
    tokens = full_flow(client, alice, app_client)
    body = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).text
    assert alice.id not in body and alice.email not in body


def test_account_token_is_not_an_oauth_token(client: Any, alice: Account) -> None:
    assert (
        client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {alice.tokens.access_token}"}
        ).status_code
        == 401
    )


def _params(d: dict[str, str]) -> str:
    return urlencode(d)
