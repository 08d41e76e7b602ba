"""
T3: the object-level authorization matrix, generated from the routers' routes.

Every route that depends on the account session is called as its owner, as another account,
without a token, with a revoked session, with an expired token and with a token of the wrong
audience (an OAuth client's). A route missing from the matrix fails the test.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp

from charter.api.routers.account import bearer
from charter.services.account import DeviceInfo
from support.accounts import HUMAN, PASSWORD, cookie_of, make_account

MICROS = 1_000_000
MARKER = "ALICEMARKERzq81"

BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/v1/account/me"): None,
    ("PATCH", "/v1/account/me/profile"): {"nickname": "Changed"},
    ("PUT", "/v1/account/me/recovery"): {"contact": "+49 30 1234567"},
    ("POST", "/v1/account/me/password"): {"new_password": PASSWORD},
    ("POST", "/v1/account/me/freeze"): None,
    ("POST", "/v1/account/reauth"): {"password": "not the password"},
    ("POST", "/v1/account/logout"): None,
    ("GET", "/v1/account/devices"): None,
    ("DELETE", "/v1/account/devices/{device_id}"): None,
    ("GET", "/v1/account/sessions"): None,
    ("DELETE", "/v1/account/sessions/{session_id}"): None,
    ("GET", "/v1/account/approvals"): None,
    ("POST", "/v1/account/approvals/{challenge_id}"): {"approve": True},
    ("POST", "/v1/account/2sv/totp"): None,
    ("POST", "/v1/account/2sv/totp/confirm"): {"code": "000000"},
    ("POST", "/v1/account/2sv/disable"): {"code": "000000"},
    ("GET", "/v1/account/authorizations"): None,
    ("DELETE", "/v1/account/authorizations/{client_id}"): None,
}
"""Every user-scoped operation and a request body for it."""

SCHEME = bearer.scheme_name
OBJECT_ROUTES = {path for _, path in BODIES if "{" in path}


def user_scoped_routes(app: Any) -> list[tuple[str, str]]:
    """Operations of the OpenAPI document that require the account session."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if any(SCHEME in req for req in operation.get("security", [])):
                out.append((method.upper(), path))
    return out


def oauth_access_token(client: Any, provider: Any, browser: str) -> tuple[str, str]:
    """An OAuth access token for the person whose browser session cookie is ``browser``."""
    client_id = provider.clients.add("Matrix App", ["https://matrix.example/cb"]).client.client_id
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "https://matrix.example/cb",
        "scope": "openid profile",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    cookie = {"Cookie": f"charter_session={browser}"}
    page = client.get("/oauth/authorize", params=params, headers=cookie)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = {k: v.replace("&amp;", "&") for k, v in form.items()}
    form["decision"] = "allow"
    redirect = client.post("/oauth/authorize", data=form, headers=cookie, follow_redirects=False)
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    tokens = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://matrix.example/cb",
            "client_id": client_id,
            "code_verifier": verifier,
        },
    ).json()
    return client_id, tokens["access_token"]


def snapshot(accounts: Any, provider: Any, account_id: str) -> Any:
    return (
        accounts.status(account_id),
        accounts.profile(account_id),
        accounts.devices(account_id),
        sorted(s["id"] for s in accounts.sessions(account_id)),
        accounts.pending_approvals(account_id),
        provider.authorizations(account_id),
    )


def test_every_user_scoped_route_is_in_the_matrix(app: Any) -> None:
    routes = set(user_scoped_routes(app))
    assert routes == set(BODIES), f"missing from the matrix: {sorted(routes - set(BODIES))}"


def test_object_level_authorization_matrix(
    app: Any, client: Any, accounts: Any, sender: Any, provider: Any, clock: Any
) -> None:
    alice = make_account(accounts, sender, "alice.marker@example.org")
    bob = make_account(accounts, sender, "bob@example.net")
    session = accounts.authenticate(alice.tokens.access_token)
    accounts.update_profile(alice.id, nickname=MARKER)
    seed, _ = accounts.begin_totp(session)
    accounts.confirm_totp(session, pyotp.TOTP(seed).at(clock.now // MICROS))
    pending = accounts.login(
        alice.email, PASSWORD, device=DeviceInfo("tablet", "Tab"), ip="192.0.2.10", signals=HUMAN
    )
    client_id, oauth_token = oauth_access_token(client, provider, cookie_of(client, alice))
    revoked = accounts.login(
        alice.email,
        PASSWORD,
        device=DeviceInfo("android-id-phone-1", "Phone 11"),
        ip="192.0.2.10",
        signals=HUMAN,
    ).tokens
    accounts.logout(accounts.authenticate(revoked.access_token))
    ids = {
        "device_id": accounts.devices(alice.id)[0]["id"],
        "session_id": alice.tokens.session_id,
        "challenge_id": pending.challenge_id,
        "client_id": client_id,
    }
    before = snapshot(accounts, provider, alice.id)
    principals = {
        "other_user": bob.tokens.access_token,
        "no_token": None,
        "revoked_session": revoked.access_token,
        "wrong_audience": oauth_token,
        "garbage": "at_" + secrets.token_urlsafe(32),
    }
    pairs = leaks = unexpected = 0

    def fresh_bob() -> str:
        if accounts.status(bob.id)["status"] != "active":
            accounts.set_status(bob.id, "active", expect=("frozen",), actor="admin")
        tokens = accounts.login(
            bob.email,
            PASSWORD,
            device=DeviceInfo("android-id-phone-1", "Phone 11"),
            ip="192.0.2.10",
            signals=HUMAN,
        ).tokens
        return str(tokens.access_token)

    details = []
    for (method, path), body in BODIES.items():
        url = path.format(**ids)
        principals["other_user"] = (
            fresh_bob()
        )  # the other account's own session may end (logout, freeze)
        for name, token in principals.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.request(method, url, json=body, headers=headers)
            pairs += 1
            text = response.text
            if (
                MARKER in text
                or alice.id in text
                or alice.email in text
                or ids["device_id"] in text
            ):
                leaks += 1
            before_count = unexpected
            if name != "other_user":
                unexpected += response.status_code != 401
            elif path in OBJECT_ROUTES:
                unexpected += response.status_code not in (403, 404)
            elif (
                response.status_code in (200, 201, 204)
                and method != "GET"
                and path
                not in (
                    "/v1/account/logout",
                    "/v1/account/2sv/totp",
                    "/v1/account/me/profile",
                    "/v1/account/me/freeze",
                    "/v1/account/me/recovery",
                    "/v1/account/me/password",
                )
            ):
                unexpected += 1
            if unexpected != before_count:
                details.append((method, path, name, response.status_code))
    after = snapshot(accounts, provider, alice.id)
    print(f"authz_pairs: {pairs}, leaks: {leaks}, unexpected: {unexpected}")
    assert leaks == 0 and unexpected == 0, details
    assert after == before  # nobody but the owner changed the owner's state
    owner = {"Authorization": f"Bearer {alice.tokens.access_token}"}
    assert client.get("/v1/account/me", headers=owner).json()["nickname"] == MARKER
    assert (
        client.get("/v1/account/authorizations", headers=owner).json()[0]["client_id"] == client_id
    )
    assert (
        client.delete(f"/v1/account/devices/{ids['device_id']}", headers=owner).status_code == 204
    )
    clock.advance(micros=601 * MICROS)
    expired = client.get(
        "/v1/account/me", headers={"Authorization": f"Bearer {bob.tokens.access_token}"}
    )
    assert expired.status_code == 401
