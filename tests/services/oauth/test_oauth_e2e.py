"""
End to end: a real, independent OAuth client (requests-oauthlib over a real socket) runs the
code flow with PKCE against the provider served by uvicorn; the ID token, signed by Authlib
with joserfc, is verified with PyJWT from the published JWKS.

Two clients in different sectors see different ``sub`` values for the same person; the same
client sees the same ``sub`` twice, also after a restart and a signing-key rotation.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import jwt
import pytest
import requests
import uvicorn
from requests_oauthlib import OAuth2Session

from charter.app import Charter
from charter.config import Settings
from charter.services.account import FAST_FOR_TESTS, AccountService, HashingGate, MemorySender
from charter.services.account.sessions import TokenPair
from charter.services.oauth import OAuthProvider
from support.accounts import HUMAN, PASSWORD, PHONE, browser_cookie, build_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A Charter deployment served by uvicorn on a loopback port, in a thread."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.charter = Charter.open(Settings(data_dir=data_dir))
        self.sender = MemorySender()
        self.accounts = AccountService(
            self.charter.gate,
            sender=self.sender,
            profile=FAST_FOR_TESTS,
            hashing=HashingGate(slots=2, queue=8),
        )
        self.base = f"http://127.0.0.1:{port}"
        self.provider = OAuthProvider(self.charter.gate, issuer=self.base)
        app = build_app(self.charter, self.accounts, self.provider)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.server.should_exit = True
            self.thread.join(10)
            self.charter.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    Charter.init(path)
    return path


@pytest.fixture
def server(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http, as RFC 8252 allows
    with Server(data_dir, free_port()) as s:
        yield s


def sign_in(server: Server, email: str) -> str:
    """A person registers and signs in through the HTTP API; returns the session token."""
    api = requests.Session()
    challenge = api.post(
        f"{server.base}/v1/account/register",
        json={"identifier": email, "password": PASSWORD, "country": "de"},
    ).json()["challenge_id"]
    assert (
        api.post(
            f"{server.base}/v1/account/register/confirm",
            json={"challenge_id": challenge, "code": server.sender.last_code(email)},
        ).status_code
        == 201
    )
    login = api.post(
        f"{server.base}/v1/account/login",
        json={
            "identifier": email,
            "password": PASSWORD,
            "device_id": PHONE.device_id,
            "device_model": PHONE.model,
            "signals": HUMAN,
        },
    ).json()
    if login["status"] == "step_up":
        login = api.post(
            f"{server.base}/v1/account/login/verify",
            json={"challenge_id": login["challenge_id"], "code": server.sender.last_code(email)},
        ).json()
    api.patch(
        f"{server.base}/v1/account/me/profile",
        json={"nickname": "Ali"},
        headers={"Authorization": f"Bearer {login['tokens']['access_token']}"},
    ).raise_for_status()
    info = server.accounts.authenticate(login["tokens"]["access_token"])
    return browser_cookie(server.accounts, TokenPair("", "", 0, info.session_id, info.subject_id))


def run_code_flow(
    server: Server, session_token: str, client_id: str, redirect_uri: str
) -> dict[str, object]:
    """The client's side of the flow, with the person's browser answering the consent page."""
    oauth = OAuth2Session(
        client_id, redirect_uri=redirect_uri, scope=["openid", "profile"], pkce="S256"
    )
    nonce = secrets.token_urlsafe(12)  # a nonce used twice is refused as a replay
    url, _state = oauth.authorization_url(f"{server.base}/oauth/authorize", nonce=nonce)
    browser = requests.Session()
    browser.cookies.set("charter_session", session_token)
    page = browser.get(url, allow_redirects=False)
    if page.status_code == 200:
        form = {
            k: unescape(v)
            for k, v in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text
            )
        }
        form["decision"] = "allow"
        page = browser.post(f"{server.base}/oauth/authorize", data=form, allow_redirects=False)
    assert page.status_code == 302, page.text
    token = oauth.fetch_token(
        f"{server.base}/oauth/token",
        authorization_response=page.headers["location"],
        include_client_id=True,
    )
    jwks = requests.get(f"{server.base}/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token["id_token"])["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims = jwt.decode(
        token["id_token"], key=key, algorithms=["RS256"], audience=client_id, issuer=server.base
    )
    assert claims["nonce"] == nonce
    info = oauth.get(f"{server.base}/oauth/userinfo").json()
    assert info["sub"] == claims["sub"] and info["nickname"] == "Ali"
    assert set(info) <= {"sub", "nickname", "picture"}
    return dict(claims)


def test_independent_client_completes_the_code_flow_with_pairwise_subs(
    data_dir: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    band = server.provider.clients.add("Band", ["http://127.0.0.1:8001/cb"]).client.client_id
    lamp = server.provider.clients.add("Lamp", ["http://localhost:8002/cb"]).client.client_id
    token = sign_in(server, "carol@example.org")
    first = run_code_flow(server, token, band, "http://127.0.0.1:8001/cb")
    again = run_code_flow(server, token, band, "http://127.0.0.1:8001/cb")
    other = run_code_flow(server, token, lamp, "http://localhost:8002/cb")
    assert first["sub"] == again["sub"]
    assert first["sub"] != other["sub"]
    server.provider.keystore.rotate()
    rotated = run_code_flow(server, token, band, "http://127.0.0.1:8001/cb")
    assert rotated["sub"] == first["sub"]
    server.__exit__(None, None, None)
    with Server(data_dir, free_port()) as restarted:
        session = restarted.accounts.login(
            "carol@example.org", PASSWORD, device=PHONE, ip="127.0.0.1", signals=HUMAN
        )
        assert session.tokens is not None
        after = run_code_flow(
            restarted,
            browser_cookie(restarted.accounts, session.tokens),
            band,
            "http://127.0.0.1:8001/cb",
        )
    assert after["sub"] == first["sub"]
