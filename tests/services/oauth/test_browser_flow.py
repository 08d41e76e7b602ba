"""
The provider as a browser meets it, in process: sign-in and back, ``prompt``/``max_age``,
RFC 9207 ``iss``, the issuer whatever Host says, RP-initiated logout, CORS, error pages,
the refresh ID token and the pairwise sector rules. The whole flow in a real browser with a
real relying party is ``tests/services/oauth/test_relying_party_browser.py``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from test_oauth_flow import (
    REDIRECT,
    auth_params,
    code_from,
    consent,
    exchange,
    pkce,
    refresh_grant,
)
from typer.testing import CliRunner

from charter.app import Charter
from charter.cli import app as cli_app
from charter.errors import InputError
from charter.services.oauth import OAuthProvider
from charter.services.oauth.pairwise import pairwise_sub
from charter.testing import FakeClock
from support.accounts import Account, cookie_of

LOGOUT_BACK = "https://app.example.com/signed-out"


@pytest.fixture
def app_client(provider: OAuthProvider) -> str:
    return provider.clients.add(
        "Band App", [REDIRECT], post_logout_redirect_uris=[LOGOUT_BACK], id_token_on_refresh=True
    ).client.client_id


def authorize(client: Any, cookie: str | None, params: dict[str, str]) -> Any:
    headers = {"Cookie": f"charter_session={cookie}"} if cookie else {}
    return client.get("/oauth/authorize", params=params, headers=headers, follow_redirects=False)


def query_of(response: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["location"]).query)


def id_token_for(client: Any, account: Account, client_id: str, **extra: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    code = code_from(
        consent(client, cookie_of(client, account), auth_params(client_id, challenge, **extra))
    )
    response = exchange(client, client_id, code, verifier)
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- not signed in: to the sign-in page and back ---------------------------------------------


def test_not_signed_in_goes_to_the_sign_in_page_which_remembers_the_request(
    client: Any, app_client: str
) -> None:
    _, challenge = pkce()
    params = auth_params(app_client, challenge)
    response = authorize(client, None, params)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    cookie = response.headers["set-cookie"]
    assert "charter_session=bs_" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


def test_prompt_none_without_a_session_answers_login_required(client: Any, app_client: str) -> None:
    _, challenge = pkce()
    response = authorize(client, None, auth_params(app_client, challenge, prompt="none"))
    assert response.status_code == 302
    query = query_of(response)
    assert query["error"] == ["login_required"] and query["state"] == ["st-123"]
    assert query["iss"] == ["https://testserver"]
    assert response.headers["location"].startswith(REDIRECT)


def test_prompt_none_with_a_session_but_no_consent_answers_consent_required(
    client: Any, alice: Account, app_client: str
) -> None:
    _, challenge = pkce()
    response = authorize(
        client, cookie_of(client, alice), auth_params(app_client, challenge, prompt="none")
    )
    assert query_of(response)["error"] == ["consent_required"]


def test_prompt_none_after_consent_returns_a_code_at_once(
    client: Any, alice: Account, app_client: str
) -> None:
    id_token_for(client, alice, app_client)
    _, challenge = pkce()
    response = authorize(
        client, cookie_of(client, alice), auth_params(app_client, challenge, prompt="none")
    )
    assert code_from(response)
    assert query_of(response)["iss"] == ["https://testserver"]


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_and_max_age_zero_ask_for_a_new_sign_in(
    client: Any, alice: Account, app_client: str, extra: dict[str, str]
) -> None:
    id_token_for(client, alice, app_client)  # consent given, session live
    _, challenge = pkce()
    response = authorize(
        client, cookie_of(client, alice), auth_params(app_client, challenge, **extra)
    )
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert "code=" not in response.headers["location"]


def test_max_age_is_checked_against_the_last_sign_in(
    client: Any, alice: Account, app_client: str, clock: FakeClock
) -> None:
    id_token_for(client, alice, app_client)
    cookie = cookie_of(client, alice)
    _, challenge = pkce()
    fresh = authorize(client, cookie, auth_params(app_client, challenge, max_age="600"))
    assert fresh.status_code == 302 and code_from(fresh)
    clock.advance(seconds=700)
    stale = authorize(client, cookie, auth_params(app_client, challenge, max_age="600"))
    assert stale.status_code == 303 and stale.headers["location"] == "/signin"
    bad = authorize(client, cookie, auth_params(app_client, challenge, max_age="soon"))
    assert query_of(bad)["error"] == ["invalid_request"]


def test_a_code_response_carries_iss_and_the_id_token_auth_time(
    client: Any, alice: Account, app_client: str
) -> None:
    verifier, challenge = pkce()
    response = consent(client, cookie_of(client, alice), auth_params(app_client, challenge))
    assert query_of(response)["iss"] == ["https://testserver"]
    tokens = exchange(client, app_client, code_from(response), verifier).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["iss"] == "https://testserver" and "auth_time" in claims


def test_discovery_names_the_new_capabilities(client: Any) -> None:
    meta = client.get("/.well-known/openid-configuration").json()
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["end_session_endpoint"] == "https://testserver/oauth/logout"
    assert set(meta["prompt_values_supported"]) == {"none", "login", "consent"}


# -- the issuer never comes from a request ---------------------------------------------------


def test_host_header_never_changes_the_issuer(client: Any, alice: Account, app_client: str) -> None:
    evil = {"Host": "attacker.invalid"}
    for _ in range(2):
        meta = client.get("/.well-known/openid-configuration", headers=evil).json()
        assert meta["issuer"] == "https://testserver"
        assert all("attacker" not in str(v) for v in meta.values())
    verifier, challenge = pkce()
    params = auth_params(app_client, challenge)
    page = client.get(
        "/oauth/authorize",
        params=params,
        headers={**evil, "Cookie": f"charter_session={cookie_of(client, alice)}"},
    )
    assert page.status_code == 200
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    answered = client.post(
        "/oauth/authorize",
        data={**form, "decision": "allow"},
        headers={**evil, "Cookie": f"charter_session={cookie_of(client, alice)}"},
        follow_redirects=False,
    )
    assert query_of(answered)["iss"] == ["https://testserver"]
    tokens = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code_from(answered),
            "redirect_uri": REDIRECT,
            "client_id": app_client,
            "code_verifier": verifier,
        },
        headers=evil,
    ).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["iss"] == "https://testserver"
    refreshed = refresh_grant(client, app_client, tokens["refresh_token"], headers=evil).json()
    again = jwt.decode(refreshed["id_token"], options={"verify_signature": False})
    assert again["iss"] == "https://testserver"
    assert client.get("/.well-known/openid-configuration").json()["issuer"] == (
        "https://testserver"
    )


# -- refresh ---------------------------------------------------------------------------------


def test_a_refresh_returns_a_new_id_token_for_the_same_person(
    client: Any, alice: Account, app_client: str, clock: FakeClock
) -> None:
    first = id_token_for(client, alice, app_client)
    clock.advance(seconds=30)
    refreshed = refresh_grant(client, app_client, first["refresh_token"]).json()
    old = jwt.decode(first["id_token"], options={"verify_signature": False})
    new = jwt.decode(refreshed["id_token"], options={"verify_signature": False})
    assert new["sub"] == old["sub"] and new["aud"] == old["aud"] and new["iss"] == old["iss"]
    assert new["auth_time"] == old["auth_time"] and new["iat"] > old["iat"]
    assert "nonce" not in new


def test_a_client_not_registered_for_it_gets_no_id_token_on_refresh(
    client: Any, alice: Account, provider: OAuthProvider
) -> None:
    quiet = provider.clients.add("Quiet App", [REDIRECT]).client.client_id
    first = id_token_for(client, alice, quiet)
    assert "id_token" in first  # the sign-in's token response has one
    refreshed = refresh_grant(client, quiet, first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert "id_token" not in body and "openid" in body["scope"].split()
    assert (
        client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
        ).json()["sub"]
        == jwt.decode(first["id_token"], options={"verify_signature": False})["sub"]
    )


# -- error pages -----------------------------------------------------------------------------


def test_unknown_client_and_bad_redirect_uri_get_a_page_in_words_with_the_code(
    client: Any, alice: Account, app_client: str
) -> None:
    _, challenge = pkce()
    unknown = authorize(client, cookie_of(client, alice), auth_params("c_nobody", challenge))
    assert unknown.status_code == 400 and "location" not in unknown.headers
    assert "not registered" in unknown.text and "invalid_client" in unknown.text
    wrong = authorize(
        client,
        None,
        auth_params(app_client, challenge, redirect_uri="https://evil.example/cb"),
    )
    assert wrong.status_code == 400 and "location" not in wrong.headers
    assert "invalid_request" in wrong.text and "redirect_uri" in wrong.text
    assert "evil.example" not in wrong.text  # request values are not echoed


# -- RP-initiated logout ---------------------------------------------------------------------


def test_logout_with_the_id_token_hint_ends_the_session_and_returns_to_the_app(
    client: Any, alice: Account, app_client: str
) -> None:
    tokens = id_token_for(client, alice, app_client)
    cookie = cookie_of(client, alice)
    response = client.get(
        "/oauth/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_BACK,
            "state": "bye-1",
        },
        headers={"Cookie": f"charter_session={cookie}"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{LOGOUT_BACK}?state=bye-1"
    _, challenge = pkce()
    after = authorize(client, cookie, auth_params(app_client, challenge))
    assert after.status_code == 303 and after.headers["location"] == "/signin"
    headers = {"Authorization": f"Bearer {alice.tokens.access_token}"}
    assert client.get("/v1/account/me", headers=headers).status_code == 401  # both ended


def test_logout_with_a_foreign_post_logout_redirect_uri_is_refused_on_a_page(
    client: Any, alice: Account, app_client: str
) -> None:
    tokens = id_token_for(client, alice, app_client)
    cookie = cookie_of(client, alice)
    for foreign in ("https://evil.example/", LOGOUT_BACK + "/x", REDIRECT):
        response = client.get(
            "/oauth/logout",
            params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": foreign},
            headers={"Cookie": f"charter_session={cookie}"},
            follow_redirects=False,
        )
        assert response.status_code == 400 and "location" not in response.headers
        assert "post_logout_redirect_uri" in response.text
    _, challenge = pkce()
    still = authorize(client, cookie, auth_params(app_client, challenge))
    assert code_from(still)  # still signed in: straight back with a code


def test_logout_without_proof_asks_first(client: Any, alice: Account, app_client: str) -> None:
    cookie = cookie_of(client, alice)
    headers = {"Cookie": f"charter_session={cookie}"}
    page = client.get(
        "/oauth/logout",
        params={"client_id": app_client, "post_logout_redirect_uri": LOGOUT_BACK},
        headers=headers,
    )
    assert page.status_code == 200 and "Sign out of Charter?" in page.text
    _, challenge = pkce()
    assert authorize(client, cookie, auth_params(app_client, challenge)).status_code == 200
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    forged = client.post(
        "/oauth/logout",
        data={**form, "csrf": "x" * 32, "confirm": "yes"},
        headers=headers,
        follow_redirects=False,
    )
    assert forged.status_code == 403
    done = client.post(
        "/oauth/logout", data={**form, "confirm": "yes"}, headers=headers, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == LOGOUT_BACK
    assert authorize(client, cookie, auth_params(app_client, challenge)).status_code == 303


def test_a_forged_id_token_hint_is_refused(client: Any, alice: Account, app_client: str) -> None:
    forged = jwt.encode(
        {"iss": "https://testserver", "aud": app_client, "sub": "x"}, "k" * 32, "HS256"
    )
    response = client.get(
        "/oauth/logout",
        params={"id_token_hint": forged, "post_logout_redirect_uri": LOGOUT_BACK},
        headers={"Cookie": f"charter_session={cookie_of(client, alice)}"},
        follow_redirects=False,
    )
    assert response.status_code == 400 and "id_token_hint" in response.text


# -- CORS ------------------------------------------------------------------------------------


def test_cors_only_for_registered_origins(client: Any, alice: Account, app_client: str) -> None:
    tokens = id_token_for(client, alice, app_client)
    good, bad = "https://app.example.com", "https://evil.example"
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
        allowed = client.get(path, headers={"Origin": good})
        assert allowed.headers["access-control-allow-origin"] == good
        assert (
            "access-control-allow-origin" not in client.get(path, headers={"Origin": bad}).headers
        )
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = client.get("/oauth/userinfo", headers={**bearer, "Origin": good})
    assert info.status_code == 200 and info.headers["access-control-allow-origin"] == good
    assert "access-control-allow-credentials" not in info.headers
    preflight = client.options(
        "/oauth/token",
        headers={
            "Origin": good,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == good
    refused = client.options(
        "/oauth/userinfo",
        headers={"Origin": bad, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in refused.headers
    api = client.get("/v1/account/me", headers={"Origin": good})
    assert "access-control-allow-origin" not in api.headers  # nothing outside the provider


# -- pairwise sectors ------------------------------------------------------------------------


def test_default_sector_is_the_redirect_host_without_port(provider: OAuthProvider) -> None:
    one = provider.clients.add("One", ["http://127.0.0.1:8001/cb"]).client
    two = provider.clients.add("Two", ["http://127.0.0.1:8002/cb"]).client
    assert one.sector == two.sector == "127.0.0.1"
    other = provider.clients.add("Three", ["http://localhost:8001/cb"]).client
    assert pairwise_sub(provider.keyring, one.sector, "s_x") != pairwise_sub(
        provider.keyring, other.sector, "s_x"
    )


def test_sector_identifier_uri_must_list_every_redirect_uri(provider: OAuthProvider) -> None:
    uris = ["https://a.example.com/cb", "https://b.example.net/cb"]
    served = {"https://corp.example.org/sector.json": uris}
    issued = provider.clients.add(
        "Corp",
        uris,
        sector_identifier_uri="https://corp.example.org/sector.json",
        fetch=served.__getitem__,
    ).client
    assert issued.sector == "corp.example.org"
    assert issued.sector_identifier_uri == "https://corp.example.org/sector.json"
    with pytest.raises(InputError, match="does not list"):
        provider.clients.add(
            "Corp 2",
            [*uris, "https://c.example.com/cb"],
            sector_identifier_uri="https://corp.example.org/sector.json",
            fetch=served.__getitem__,
        )
    with pytest.raises(InputError, match="could not be read"):
        provider.clients.add(
            "Corp 3",
            uris,
            sector_identifier_uri="https://corp.example.org/missing.json",
            fetch=served.__getitem__,
        )
    with pytest.raises(InputError, match="https"):
        provider.clients.add("Corp 4", uris, sector_identifier_uri="http://corp.example.org/s.json")


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_prints_what_a_relying_party_needs_and_show_repeats_it_without_the_secret(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "cli-data"
    Charter.init(data)
    monkeypatch.setenv("CHARTER_ISSUER", "https://id.example.org")
    runner = CliRunner()
    added = runner.invoke(
        cli_app,
        [
            "oauth", "client", "add", "--name", "Shop", "--confidential",
            "-r", "https://shop.example.com/cb", "-l", "https://shop.example.com/bye",
            "--data-dir", str(data),
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    out = dict(line.split(": ", 1) for line in added.output.splitlines() if ": " in line)
    assert out["issuer"] == "https://id.example.org"
    assert out["discovery"] == "https://id.example.org/.well-known/openid-configuration"
    assert out["redirect_uris"] == "https://shop.example.com/cb"
    assert out["post_logout_redirect_uris"] == "https://shop.example.com/bye"
    secret = out["client_secret"]
    assert len(secret) >= 40 and "shown once" in added.output
    shown = runner.invoke(
        cli_app, ["oauth", "client", "show", out["client_id"], "--data-dir", str(data)]
    )
    assert shown.exit_code == 0 and out["client_id"] in shown.output
    assert secret not in shown.output and "client_secret:" not in shown.output
    assert "https://shop.example.com/cb" in shown.output
    missing = runner.invoke(cli_app, ["oauth", "client", "show", "c_x", "--data-dir", str(data)])
    assert missing.exit_code != 0


def test_registration_is_stored_as_json(provider: OAuthProvider) -> None:
    client = provider.clients.add(
        "Json", [REDIRECT], post_logout_redirect_uris=[LOGOUT_BACK, LOGOUT_BACK + "2"]
    ).client
    again = provider.clients.get(client.client_id)
    assert again.post_logout_redirect_uris == (LOGOUT_BACK, LOGOUT_BACK + "2")
    assert json.loads(json.dumps(list(again.origins))) == ["https://app.example.com"]
