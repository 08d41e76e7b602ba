"""
The hot paths are single-node (router) queries under Citus (issue 14), proved on their SQL:
every statement they send is captured with a SQLAlchemy event hook while real requests go
through the whole app (middleware, credentials, routes), and each statement that touches a
distributed table must

- touch only one distributed table (no join of two subjects, nor of a key table with a
  subject table: those would run on two nodes);
- name the row's node: a subject table filtered by ``subject_id = ?`` (one value, no ``OR``),
  a key table by its key, ``subjects`` by its id; an insert carries the column.

The paths: an authenticated no-op (``GET /v1/whoami``) with each kind of credential, a
switch change with a user token and with a session access token, a first-party token
refresh, and an OAuth refresh-token grant.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.services.account import FAST_FOR_TESTS, MemorySender
from charter.store.registry import Distribution, registered
from support.accounts import make_account

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

REDIRECT = "http://127.0.0.1:9/cb"
_TABLE = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)
_PARAM = r"(?:\?|%\(\w+\)s|:\w+)"
_IGNORED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA")


def problems(statement: str) -> list[str]:
    """Why ``statement`` is not a single-node query (empty when it is one)."""
    sql = " ".join(statement.split())
    if sql.upper().startswith(_IGNORED):
        return []
    kinds = {e.table.name: e for e in registered()}
    tables = sorted({t for t in _TABLE.findall(sql) if t in kinds})
    spread = [
        t for t in tables if kinds[t].distribution in (Distribution.SUBJECT, Distribution.KEY)
    ]
    if len(spread) > 1:
        return [f"joins distributed tables {spread}: {sql[:160]}"]
    found = []
    for table in spread:
        column = kinds[table].distribution_column
        if sql.upper().startswith("INSERT"):
            listed = re.search(rf"INSERT INTO \"?{table}\"? \(([^)]*)\)", sql, re.IGNORECASE)
            if listed is None or column not in [c.strip(' "') for c in listed.group(1).split(",")]:
                found.append(f"insert into {table} without {column}: {sql[:160]}")
            continue
        where = sql.upper().partition(" WHERE ")[2]
        one_node = re.search(
            rf"(?:\b{table}\.)?\b{column} (?:= {_PARAM}|IN \({_PARAM}\))", sql, re.IGNORECASE
        )
        if not where or one_node is None or " OR " in where:
            found.append(f"{table} not filtered by one {column}: {sql[:200]}")
    return found


def test_the_lint_catches_what_spreads() -> None:
    assert problems("SELECT switches.key FROM switches WHERE switches.subject_id = ?") == []
    assert problems("UPDATE acct_tokens SET used_at=? WHERE acct_tokens.hash = ?") == []
    assert problems("INSERT INTO switch_history (subject_id, key) VALUES (?, ?)") == []
    assert problems("SELECT * FROM acct_sessions WHERE acct_sessions.id = ?")
    assert problems("SELECT * FROM switches WHERE switches.subject_id IN (?, ?)")
    assert problems("SELECT * FROM switches WHERE subject_id = ? OR key = ?")
    assert problems("SELECT * FROM switches")
    assert problems("INSERT INTO acct_tokens (session_id, kind) VALUES (?, ?)")
    assert problems(
        "SELECT * FROM acct_sessions JOIN acct_tokens ON acct_tokens.session_id = "
        "acct_sessions.id WHERE acct_tokens.hash = ?"
    )
    assert problems("SELECT * FROM subjects WHERE subjects.market = ?")


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Charter]:
    Charter.init(tmp_path)
    charter = Charter.open(
        Settings(data_dir=tmp_path), sender=MemorySender(), password_profile=FAST_FOR_TESTS
    )
    try:
        yield charter
    finally:
        charter.close()


def _capture(engines: list[Engine]) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    return seen


def _oauth_refresh_token(http: TestClient, charter: Charter, tokens: Any) -> tuple[str, str]:
    """A client, and a refresh token from a code flow of a signed-in browser."""
    client_id = charter.oauth.clients.add("Lint", [REDIRECT]).client.client_id
    browser = charter.accounts.browser
    session = browser.new()
    browser.sign_in(session, tokens)
    browser.save(session)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    http.cookies.set("charter_session", session.token)
    page = http.get("/oauth/authorize", params=params, follow_redirects=False)
    location = page.headers.get("location")
    if location is None:
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        form = {k: v.replace("&amp;", "&") for k, v in form.items()}
        form["decision"] = "allow"
        answer = http.post("/oauth/authorize", data=form, follow_redirects=False)
        location = answer.headers["location"]
    http.cookies.clear()
    code = re.search(r"code=([^&]+)", location)
    assert code is not None, location
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    return client_id, answer.json()["refresh_token"]


def test_hot_paths_are_router_queries(deployment: Charter) -> None:
    charter = deployment
    sender = charter.accounts.sender
    account = make_account(charter.accounts, sender, "router@example.org")
    sid = account.id
    charter.gate.set_switches(sid, {"cloud.authorization": True}, source="user", actor="subject")
    user = charter.credentials.issue_user_token(sid).secret
    service = charter.credentials.create_api_key("cloud").secret
    http = TestClient(create_app(charter), base_url="http://127.0.0.1")
    client_id, refresh = _oauth_refresh_token(http, charter, account.tokens)
    engines = [charter.stores.control()] + [
        charter.stores.region(r) for r in charter.stores.regions
    ]
    seen = _capture(engines)
    for credential in (user, service, account.tokens.access_token):
        answer = http.get("/v1/whoami", headers={"Authorization": f"Bearer {credential}"})
        assert answer.status_code == 200, answer.text
    for value, credential in ((False, user), (True, account.tokens.access_token)):
        answer = http.put(
            f"/v1/subjects/{sid}/switches",
            json={"changes": {"cloud.authorization": value}},
            headers={"Authorization": f"Bearer {credential}"},
        )
        assert answer.status_code == 200, answer.text
    answer = http.post(
        "/v1/account/token/refresh", json={"refresh_token": account.tokens.refresh_token}
    )
    assert answer.status_code == 200, answer.text
    answer = http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id},
    )
    assert answer.status_code == 200, answer.text
    touched = {t for s in seen for t in _TABLE.findall(s)}
    assert {"switches", "acct_tokens", "acct_sessions", "user_tokens"} <= touched  # it looked
    found = [p for statement in seen for p in problems(statement)]
    assert found == [], "\n".join(found)
