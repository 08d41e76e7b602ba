"""
Schemathesis against a live ``charter serve`` over real HTTP, with each kind of principal:
a service credential, an account session and an OAuth access token. No 5xx on any generated
input and no status, header or body the OpenAPI document does not declare.

Reduced in CI (a few examples per operation, derandomized); ``CHARTER_TEST_SLOW=1`` runs more.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from pathlib import Path

import httpx
import schemathesis
from schemathesis.checks import positive_data_acceptance

from charter.services.account import DeviceInfo, MemorySender
from charter.testing import open_test_charter
from support.accounts import browser_cookie
from support.live import live_server
from support.schema_checks import operation_check

EXAMPLES = 25 if os.environ.get("CHARTER_TEST_SLOW") == "1" else 4
PASSWORD = "violet lantern quietly orbits"
PHONE = DeviceInfo("schemathesis-phone", "Phone 11")
REDIRECT = "http://127.0.0.1:9/cb"
SEMANTIC_PREFIXES = (
    "/v1/photos/strip",
    "/v1/account/",
    "/oauth/",
    "/v1/me",
    "/v1/themes/",
    "/v1/vault/",
    "/v1/apps",
    "/v1/usage/ldp",
)
"""Operations whose schema-valid inputs may still be refused for their content (see the
in-process test): every check but positive acceptance."""


def _principals(data: Path) -> tuple[dict[str, str], dict[str, str], str, str]:
    """A service key, an account session and the client and subject for an OAuth token."""
    sender = MemorySender()
    charter = open_test_charter(data, sender=sender)
    try:
        key = charter.credentials.create_api_key("cloud").secret
        charter.accounts.create("live@example.org", PASSWORD, "de", actor="test")
        outcome = charter.accounts.login("live@example.org", PASSWORD, device=PHONE, ip="192.0.2.1")
        if outcome.status == "step_up":
            code = sender.last_code("live@example.org")
            outcome = charter.accounts.complete_login(outcome.challenge_id or "", code=code)
        assert outcome.tokens is not None
        client_id = charter.oauth.clients.add("Schemathesis", [REDIRECT]).client.client_id
        return (
            {"Authorization": f"Bearer {key}"},
            {"Authorization": f"Bearer {outcome.tokens.access_token}"},
            client_id,
            browser_cookie(charter.accounts, outcome.tokens),
        )
    finally:
        charter.close()


def _oauth_token(base: str, client_id: str, session: str) -> dict[str, str]:
    """An access token from the authorization code flow with PKCE, over HTTP, for the
    browser whose session cookie is ``session``."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256", "nonce": "n",
    }  # fmt: skip
    cookie = {"Cookie": f"charter_session={session}"}
    with httpx.Client(base_url=base) as http:
        page = http.get("/oauth/authorize", params=params, headers=cookie)
        location = page.headers.get("location")
        if location is None:
            form = dict(
                re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
            )
            form = {k: v.replace("&amp;", "&") for k, v in form.items()}
            form["decision"] = "allow"
            location = http.post("/oauth/authorize", data=form, headers=cookie).headers["location"]
        code = re.search(r"code=([^&]+)", location)
        assert code, location
        tokens = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code.group(1),
                "client_id": client_id,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
        ).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_live_api_conforms_with_every_principal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    service, session, client_id, browser = _principals(data)
    with live_server(data) as (base, _):
        oauth = _oauth_token(base, client_id, browser)
        with httpx.Client(base_url=base) as http:  # each principal works before the fuzzing
            assert http.get("/oauth/userinfo", headers=oauth).status_code == 200
            assert http.get("/v1/account/me", headers=session).status_code == 200
            made = http.post(
                "/v1/subjects", json={"kind": "account", "market": "de"}, headers=service
            )
            assert made.status_code == 201
        schema = schemathesis.openapi.from_url(base + "/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        failures: list[str] = []
        for operation in operations:
            path = operation.path
            if path.startswith("/oauth/userinfo"):
                headers = oauth
            elif path.startswith(("/v1/account/", "/v1/me")):
                headers = session
            else:
                headers = service
            method = operation.method.upper()
            ends_session = (method, path) == ("DELETE", "/v1/me") or path.startswith(
                ("/v1/account/logout", "/v1/account/me/freeze", "/v1/account/2sv")
            )
            if ends_session:
                continue  # these end or change the session the other operations need
            excluded = [positive_data_acceptance] if path.startswith(SEMANTIC_PREFIXES) else []
            try:
                operation_check(operation, headers, excluded, EXAMPLES)()
            except Exception as exc:  # report every operation's failure at once
                failures.append(f"{operation.method.upper()} {path}: {str(exc)[:1500]}")
        print(f"{len(operations)} operations, {EXAMPLES} examples each")
        assert not failures, "\n\n".join(failures)
