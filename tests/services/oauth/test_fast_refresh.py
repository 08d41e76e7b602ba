"""
Issue 14: the refresh-token grant in one transaction (``charter.services.oauth.refresh``).

The one-transaction path must answer exactly what Authlib's grant would grant, with the same
response, and leave every other request to Authlib's grant untouched: the differential
property test below sends the same request, on twin grants in the same state, once through
the provider's token endpoint (the one-transaction path first) and once through Authlib's
grant alone, and compares the answers and what they leave behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt as jose_jwt
from sqlalchemy import Engine, event, select, update

from charter.services.account import keys
from charter.services.account.sessions import OAUTH_LIMITS
from charter.services.account.tables import accounts, sessions, tokens
from charter.services.oauth import Client, KeyStore, OAuthProvider
from charter.services.oauth.pairwise import pairwise_sub
from charter.services.oauth.requests import OAuthRequest
from charter.services.oauth.tables import clients as oauth_clients
from charter.testing import FakeClock
from support.accounts import Account

REDIRECT = "https://app.example/cb"
URI = "https://testserver/oauth/token"


@dataclass
class Clients:
    public: Client
    confidential: Client
    secret: str
    other: Client


@pytest.fixture
def clients(provider: OAuthProvider) -> Clients:
    issued = provider.clients.add(
        "Confidential", [REDIRECT], public=False, id_token_on_refresh=True
    )
    return Clients(
        provider.clients.add("Public", [REDIRECT], id_token_on_refresh=True).client,
        issued.client,
        issued.secret or "",
        provider.clients.add("Other", ["https://other.example/cb"]).client,
    )


def grant(provider: OAuthProvider, subject_id: str, client: Client, scope: str = "openid") -> str:
    """A new grant (token family) of ``client`` for the account; its refresh token."""
    return grant_pair(provider, subject_id, client, scope)[0]


def grant_pair(
    provider: OAuthProvider, subject_id: str, client: Client, scope: str = "openid"
) -> tuple[str, str]:
    """A new grant (token family) of ``client`` for the account; its refresh and access
    tokens."""
    refresh, access = keys.new_token("ort"), keys.new_token("oat")
    with provider.control.begin() as conn:
        session_id = provider.tokens.create_family(
            conn,
            subject_id=subject_id,
            kind="oauth",
            limits=OAUTH_LIMITS,
            client_id=client.client_id,
            scope=scope,
            auth_time=provider.clock() - 5_000_000,
        )
        provider.tokens.add_pair(conn, session_id, access, refresh, OAUTH_LIMITS, subject_id)
    return refresh, access


def request(form: list[tuple[str, str]], headers: dict[str, str] | None = None) -> OAuthRequest:
    return OAuthRequest("POST", URI, headers or {}, [], form)


def plain(token: str, client: Client) -> list[tuple[str, str]]:
    return [
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", client.client_id),
    ]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token_row(provider: OAuthProvider, token: str) -> Any:
    with provider.control.connect() as conn:
        return conn.execute(
            select(tokens).where(tokens.c.hash == keys.token_hash(provider.keyring, token))
        ).first()


def family_revoked(provider: OAuthProvider, token: str) -> bool:
    row = token_row(provider, token)
    with provider.control.connect() as conn:
        session = conn.execute(
            select(sessions.c.revoked_at).where(
                sessions.c.subject_id == row.subject_id, sessions.c.id == row.session_id
            )
        ).first()
    return session is not None and session.revoked_at is not None


def statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", before)
    return seen


# -- the one-transaction path answers the plain refresh -------------------------------------


def test_a_plain_refresh_is_one_transaction_of_five_statements(
    provider: OAuthProvider, alice: Account, clients: Clients
) -> None:
    old = grant(provider, alice.id, clients.public)
    seen = statements(provider.control)
    status, body, headers = provider.fast_refresh.attempt(request(plain(old, clients.public))) or (
        0,
        {},
        [],
    )
    assert status == 200
    work = [s for s in seen if not s.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(work) == 5, work
    assert sum(s.upper().startswith("COMMIT") for s in seen) <= 1
    assert ("Cache-Control", "no-store") in headers
    assert set(body) == {
        "token_type",
        "access_token",
        "expires_in",
        "scope",
        "refresh_token",
        "id_token",
    }
    assert token_row(provider, old).used_at is not None  # spent
    new = token_row(provider, body["refresh_token"])
    assert new.kind == "refresh" and new.used_at is None
    assert token_row(provider, body["access_token"]).kind == "access"
    # the new access token works at once, for the same grant
    assert provider.tokens.authenticate(body["access_token"], kind="oauth").client_id == (
        clients.public.client_id
    )


def test_a_changed_client_row_is_read_anew_by_the_next_refresh(
    provider: OAuthProvider, alice: Account, clients: Clients
) -> None:
    # the path keeps clients parsed by their row: a row changed since is a new client
    first = provider.fast_refresh.attempt(
        request(plain(grant(provider, alice.id, clients.public), clients.public))
    )
    assert first is not None and first[0] == 200 and "id_token" in first[1]
    with provider.control.begin() as conn:
        conn.execute(
            update(oauth_clients)
            .where(oauth_clients.c.id == clients.public.client_id)
            .values(id_token_on_refresh=False)
        )
    second = provider.fast_refresh.attempt(
        request(plain(grant(provider, alice.id, clients.public), clients.public))
    )
    assert second is not None and second[0] == 200 and "id_token" not in second[1]


def test_confidential_clients_use_the_one_transaction_path_with_their_secret(
    provider: OAuthProvider, alice: Account, clients: Clients
) -> None:
    c = clients.confidential
    by_post = grant(provider, alice.id, c)
    answer = provider.fast_refresh.attempt(
        request([*plain(by_post, c), ("client_secret", clients.secret)])
    )
    assert answer is not None and answer[0] == 200
    by_basic = grant(provider, alice.id, c)
    form = [("grant_type", "refresh_token"), ("refresh_token", by_basic)]
    answer = provider.fast_refresh.attempt(request(form, basic(c.client_id, clients.secret)))
    assert answer is not None and answer[0] == 200
    # a wrong secret is left to Authlib (invalid_client), the token unspent
    other = grant(provider, alice.id, c)
    wrong = request([*plain(other, c), ("client_secret", "not-it")])
    assert provider.fast_refresh.attempt(wrong) is None
    assert provider.token(wrong)[1]["error"] == "invalid_client"
    assert token_row(provider, other).used_at is None


def test_the_id_token_is_the_one_authlibs_grant_would_sign(
    provider: OAuthProvider,
    alice: Account,
    clients: Clients,
    signing_keys: KeyStore,
    clock: FakeClock,
) -> None:
    fast = provider.fast_refresh.attempt(
        request(plain(grant(provider, alice.id, clients.public), clients.public))
    )
    slow = provider.grant_token(
        request(plain(grant(provider, alice.id, clients.public), clients.public))
    )
    assert fast is not None and fast[0] == slow[0] == 200
    keyset = jwt.PyJWKSet.from_dict(signing_keys.public_jwks())
    decoded = []
    for body in (fast[1], slow[1]):
        header = jwt.get_unverified_header(body["id_token"])
        key = keyset[header["kid"]].key
        claims = jwt.decode(
            body["id_token"],
            key,
            algorithms=["RS256"],
            audience=clients.public.client_id,
            issuer="https://testserver",
            options={"verify_exp": False, "verify_iat": False},
        )
        decoded.append((header, claims))
        # at_hash binds the ID token to the access token beside it
        digest = hashlib.sha256(body["access_token"].encode()).digest()
        half = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        assert claims.pop("at_hash") == half
    assert decoded[0] == decoded[1]
    header, claims = decoded[0]
    assert header == {"typ": "JWT", "alg": "RS256", "kid": signing_keys.signing_kid}
    assert claims["sub"] == pairwise_sub(provider.keyring, clients.public.sector, alice.id)
    assert claims["auth_time"] == (clock() - 5_000_000) // 1_000_000
    assert fast[1]["scope"] == slow[1]["scope"] == "openid"


def test_a_client_not_registered_for_it_gets_no_id_token_either_way(
    provider: OAuthProvider, alice: Account
) -> None:
    quiet = provider.clients.add("Quiet", [REDIRECT]).client
    assert not quiet.id_token_on_refresh
    fast = provider.fast_refresh.attempt(request(plain(grant(provider, alice.id, quiet), quiet)))
    slow = provider.grant_token(request(plain(grant(provider, alice.id, quiet), quiet)))
    assert fast is not None and fast[0] == slow[0] == 200
    pair = {"token_type", "access_token", "expires_in", "scope", "refresh_token"}
    assert set(fast[1]) == set(slow[1]) == pair
    assert fast[1]["scope"] == slow[1]["scope"] == "openid"


@settings(max_examples=25, deadline=None)
@given(
    claims=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=20), st.lists(st.text())),
        max_size=6,
    )
)
def test_the_signer_makes_the_bytes_joserfc_makes(
    claims: dict[str, Any], signing_keys: KeyStore
) -> None:
    ours = signing_keys.signer().sign(dict(claims))
    theirs = jose_jwt.encode(
        {"alg": "RS256", "kid": signing_keys.signing_kid, "typ": "JWT"},
        dict(claims),
        signing_keys.signing_key(),
        ["RS256"],
    )
    assert ours == theirs
    payload = ours.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) == claims


def test_a_rotated_key_signs_the_next_refresh(
    provider: OAuthProvider, alice: Account, clients: Clients, signing_keys: KeyStore
) -> None:
    kid = signing_keys.rotate()
    try:
        answer = provider.fast_refresh.attempt(
            request(plain(grant(provider, alice.id, clients.public), clients.public))
        )
        assert answer is not None
        assert jwt.get_unverified_header(answer[1]["id_token"])["kid"] == kid
    finally:
        signing_keys.retire(
            next(k["kid"] for k in signing_keys.public_jwks()["keys"] if k["kid"] != kid)
        )


# -- and leaves everything else to Authlib's grant, unchanged -------------------------------

TOKENS = ("fresh", "spent", "access", "unknown", "other_client", "expired")
STATES = ("active", "frozen", "revoked", "idle", "absolute")
AUTHS = (
    "none",
    "none_without_id",
    "post",
    "post_wrong",
    "post_empty",
    "basic",
    "basic_wrong",
    "basic_and_post",
    "bearer",
    "public_with_secret",
)
EXTRAS = (
    (),
    (("scope", "openid"),),
    (("scope", "profile"),),
    (("foo", "bar"),),
    (("refresh_token", "again"),),
    (("grant_type", "refresh_token"),),
)


@dataclass
class Case:
    token: str
    state: str
    auth: str
    extra: tuple[tuple[str, str], ...]
    grant_type: str | None


def _twin(provider: OAuthProvider, alice: Account, clients: Clients, case: Case) -> Any:
    """One grant in the case's state; the request of the case for it, and its token."""
    confidential = case.auth.startswith(("post", "basic"))
    client = clients.confidential if confidential else clients.public
    owner = clients.other if case.token == "other_client" else client
    refresh, access = grant_pair(provider, alice.id, owner)
    presented = refresh
    if case.token == "spent":
        nxt = provider.grant_token(request(plain(refresh, owner), _auth_headers(owner, clients)))
        if owner.public:
            assert nxt[0] == 200
    elif case.token == "access":
        presented = access
    elif case.token == "unknown":
        presented = keys.new_token("ort")
    elif case.token == "expired":
        with provider.control.begin() as conn:
            conn.execute(
                update(tokens)
                .where(tokens.c.hash == keys.token_hash(provider.keyring, refresh))
                .values(expires_at=provider.clock() - 1)
            )
    row = token_row(provider, refresh)
    with provider.control.begin() as conn:
        where = (sessions.c.subject_id == row.subject_id, sessions.c.id == row.session_id)
        if case.state == "revoked":
            conn.execute(update(sessions).where(*where).values(revoked_at=provider.clock()))
        elif case.state == "idle":
            conn.execute(
                update(sessions)
                .where(*where)
                .values(last_used_at=provider.clock() - OAUTH_LIMITS.idle * 1_000_000 - 1)
            )
        elif case.state == "absolute":
            conn.execute(update(sessions).where(*where).values(expires_at=provider.clock()))
    form: list[tuple[str, str]] = []
    if case.grant_type is not None:
        form.append(("grant_type", case.grant_type))
    form.append(("refresh_token", presented))
    headers: dict[str, str] = {}
    secret = clients.secret
    if case.auth in ("none", "public_with_secret"):
        form.append(("client_id", client.client_id))
        if case.auth == "public_with_secret":
            form.append(("client_secret", "anything"))
    elif case.auth == "post":
        form += [("client_id", client.client_id), ("client_secret", secret)]
    elif case.auth == "post_wrong":
        form += [("client_id", client.client_id), ("client_secret", secret + "x")]
    elif case.auth == "post_empty":
        form += [("client_id", client.client_id), ("client_secret", "")]
    elif case.auth == "basic":
        headers = basic(client.client_id, secret)
    elif case.auth == "basic_wrong":
        headers = basic(client.client_id, "wrong")
    elif case.auth == "basic_and_post":
        headers = basic(client.client_id, secret)
        form += [("client_id", client.client_id), ("client_secret", secret)]
    elif case.auth == "bearer":
        headers = {"Authorization": "Bearer x"}
        form.append(("client_id", client.client_id))
    form += list(case.extra)
    return request(form, headers), refresh


def _auth_headers(client: Client, clients: Clients) -> dict[str, str]:
    return {} if client.public else basic(client.client_id, clients.secret)


def _status(provider: OAuthProvider, account_id: str, frozen: bool) -> None:
    with provider.control.begin() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.subject_id == account_id)
            .values(status="frozen" if frozen else "active")
        )


def _outcome(provider: OAuthProvider, answer: Any, refresh: str) -> tuple[Any, ...]:
    status, body, headers = answer
    body = body if isinstance(body, dict) else json.loads(body)
    row = token_row(provider, refresh)
    return (
        status,
        body.get("error"),
        sorted(body) if status == 200 else None,
        body.get("scope"),
        row.used_at is not None,
        family_revoked(provider, refresh),
        sorted(k for k, _ in headers),
    )


def _compare(provider: OAuthProvider, alice: Account, clients: Clients, case: Case) -> None:
    outcomes = []
    for through in (provider.token, provider.grant_token):
        oreq, refresh = _twin(provider, alice, clients, case)
        _status(provider, alice.id, frozen=case.state == "frozen")
        try:
            outcomes.append(_outcome(provider, through(oreq), refresh))
        finally:
            _status(provider, alice.id, frozen=False)
    assert outcomes[0] == outcomes[1], case


PLAIN = Case("fresh", "active", "none", (), "refresh_token")
ONE_DEVIATION = [
    PLAIN,
    Case("fresh", "active", "post", (), "refresh_token"),
    Case("fresh", "active", "basic", (), "refresh_token"),
    *(Case(token, "active", "none", (), "refresh_token") for token in TOKENS[1:]),
    *(Case("fresh", state, "none", (), "refresh_token") for state in STATES[1:]),
    *(Case("fresh", "active", auth, (), "refresh_token") for auth in AUTHS[1:]),
    *(Case("fresh", "active", "none", extra, "refresh_token") for extra in EXTRAS[1:]),
    Case("fresh", "active", "none", (), None),
    Case("fresh", "active", "none", (), "authorization_code"),
]


@pytest.mark.parametrize("case", ONE_DEVIATION, ids=repr)
def test_each_deviation_from_the_plain_refresh_is_answered_as_authlib_answers_it(
    provider: OAuthProvider, alice: Account, clients: Clients, case: Case
) -> None:
    _compare(provider, alice, clients, case)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=st.builds(
        Case,
        token=st.sampled_from(TOKENS),
        state=st.sampled_from(STATES),
        auth=st.sampled_from(AUTHS),
        extra=st.sampled_from(EXTRAS),
        grant_type=st.sampled_from(["refresh_token", "refresh_token", None, "authorization_code"]),
    )
)
def test_the_one_transaction_path_answers_as_authlibs_grant(
    provider: OAuthProvider, alice: Account, clients: Clients, case: Case
) -> None:
    _compare(provider, alice, clients, case)


# -- over HTTP: the route reads a plain form itself, anything else the general way ---------


@pytest.mark.parametrize(
    ("content_type", "query", "separator"),
    [
        ("application/x-www-form-urlencoded", "", "&"),
        ("application/x-www-form-urlencoded; charset=utf-8", "", "&"),
        ("application/x-www-form-urlencoded", "?x=1", "&"),
    ],
)
def test_the_token_route_answers_every_shape_of_a_refresh_alike(
    client: Any,
    provider: OAuthProvider,
    alice: Account,
    clients: Clients,
    content_type: str,
    query: str,
    separator: str,
) -> None:
    old = grant(provider, alice.id, clients.public)
    body = separator.join(f"{k}={v}" for k, v in plain(old, clients.public))
    answer = client.post(
        "/oauth/token" + query, content=body, headers={"Content-Type": content_type}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    assert answer.headers["content-type"] == "application/json"
    tokens_out = answer.json()
    assert tokens_out["scope"] == "openid" and "id_token" in tokens_out
    assert token_row(provider, old).used_at is not None
    again = client.post(
        "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert family_revoked(provider, old)  # reuse revokes the family, on either way in


def test_a_body_split_by_semicolons_is_left_to_the_general_parser(
    client: Any, provider: OAuthProvider, alice: Account, clients: Clients
) -> None:
    old = grant(provider, alice.id, clients.public)
    body = ";".join(f"{k}={v}" for k, v in plain(old, clients.public))
    answer = client.post(
        "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    # Starlette's parser splits on "&" only: one field, whose value is the rest
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"
    assert token_row(provider, old).used_at is None
