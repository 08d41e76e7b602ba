"""
The refresh-token grant in one transaction: the common request (``grant_type``,
``refresh_token``, the client's credentials, nothing else) is checked and answered by one unit
of the provider's group commit, five statements, instead of Authlib's three transactions.

The unit spends the token, checks its family and account and stores the next pair; when any
check fails it leaves the database as it found it and the request goes to Authlib's grant
(:mod:`charter.services.oauth.server`), which answers it as before: a spent token revokes
its family there, an unknown one, a wrong client or a dead grant gets its RFC 6749 error.
So this path only ever answers requests that Authlib's grant would have granted, with the
same response, and every refusal keeps Authlib's wording and side effects.

What must hold for the one-transaction answer (else Authlib's grant decides):

- the body names ``grant_type=refresh_token``, ``refresh_token`` and the client, each once,
  nothing else (no ``scope``: a narrower scope goes to Authlib), and no query string;
- the client authenticates as registered: a public client with ``client_id`` alone
  (``none``), a confidential one with its secret in HTTP Basic or in the body;
- the token is an unspent, unexpired refresh token whose family (an OAuth grant to this
  client) is alive (not revoked, within its absolute and idle limits) and whose account is
  active. It is spent in the same transaction that stores its successor, so of two
  presentations at once exactly one wins; the other finds it spent and goes to Authlib,
  which revokes the family (reuse).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oidc.core.grants.util import create_half_hash, is_openid_scope
from sqlalchemy import Connection

from charter.crypto import Keyring
from charter.services.account import keys
from charter.services.account.sessions import MICROS, OAUTH_LIMITS
from charter.services.oauth.clients import Client, client_of
from charter.services.oauth.jwks import ALGORITHM
from charter.services.oauth.model import OAuthUser, TokenFamily
from charter.services.oauth.pairwise import pairwise_sub
from charter.services.oauth.requests import OAuthRequest
from charter.services.oauth.server import RefreshOpenID, SigningState, generate_token
from charter.store.driver_sql import execute, in_paramstyle
from charter.store.groupcommit import GroupCommit


class RefreshState(SigningState, Protocol):
    """What this path reads of the provider
    (:class:`~charter.services.oauth.provider.OAuthProvider`)."""

    keyring: Keyring
    group: GroupCommit


Response = tuple[int, Any, list[tuple[str, str]]]
TOKEN_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]
"""Authlib's token response headers."""

_FIELDS = frozenset({"grant_type", "refresh_token", "client_id", "client_secret"})
_CLIENT_ID_MAX = 64


class _Statements:
    """
    The unit's fixed statements as SQL text in one dialect's parameter style, sent to the
    driver (:func:`charter.store.driver_sql.execute`): no statement compiled, no execution
    context built, no parameter processed per refresh (every value is already the str or int
    its column stores).
    """

    def __init__(self, paramstyle: str) -> None:
        def sql(text: str) -> str:
            return in_paramstyle(text, paramstyle)

        self.client = sql(  # the columns of _ClientRow, in its order
            "SELECT id, name, redirect_uris, sector, secret_hash, revoked_at, "
            "post_logout_redirect_uris, sector_identifier_uri, created_at, id_token_on_refresh "
            "FROM oauth_clients WHERE id = ?"
        )
        # spent in the statement that checks it: of two presentations at once one wins
        self.spend = sql(
            "UPDATE acct_tokens SET used_at = ? WHERE hash = ? AND kind = 'refresh' "
            "AND used_at IS NULL AND expires_at > ? RETURNING subject_id, session_id"
        )
        self.unspend = sql("UPDATE acct_tokens SET used_at = NULL WHERE hash = ?")
        self.status = sql("SELECT status FROM acct_accounts WHERE subject_id = ?")
        self.touch = sql(
            "UPDATE acct_sessions SET last_used_at = ? WHERE subject_id = ? AND id = ? "
            "AND kind = 'oauth' AND client_id = ? AND revoked_at IS NULL AND expires_at > ? "
            "AND last_used_at + idle_micros >= ? RETURNING expires_at, scope, auth_time"
        )
        self.add = sql(  # the access token and the refresh token
            "INSERT INTO acct_tokens "
            "(hash, subject_id, session_id, kind, issued_at, expires_at, used_at) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL), (?, ?, ?, ?, ?, ?, NULL)"
        )


class _ClientRow(NamedTuple):
    """A row of ``oauth_clients`` as :func:`client_of` reads it."""

    id: str
    name: str
    redirect_uris: str
    sector: str
    secret_hash: str | None
    revoked_at: int | None
    post_logout_redirect_uris: str | None
    sector_identifier_uri: str | None
    created_at: int
    id_token_on_refresh: bool


_STATEMENTS = {style: _Statements(style) for style in ("qmark", "format", "pyformat")}

_MAX_CLIENTS = 1024
"""Clients :class:`FastRefresh` keeps parsed (the cache starts again past this many)."""


@dataclass(frozen=True, slots=True)
class Presented:
    """A refresh request this path can answer: who the client says it is, how it
    authenticates, and the keyed hashes of the presented token and of the next pair."""

    client_id: str
    method: str
    secret_hash: str | None
    token_hash: str
    token: dict[str, Any]
    access_hash: str
    refresh_hash: str


@dataclass(frozen=True, slots=True)
class Rotated:
    """The unit's answer: the client and the family the next pair was stored in."""

    client: Client
    family: TokenFamily


_SIGNING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="charter-id-token")
"""Where ID tokens of refreshes are signed (RSA releases the GIL: an event loop and the
group commit go on meanwhile)."""


def _settle(future: Future[Response | None], make: Callable[[], Response | None]) -> None:
    try:
        future.set_result(make())
    except BaseException as error:  # handed to whoever waits for the answer
        future.set_exception(error)


class FastRefresh:
    """The refresh-token grant's one-transaction path of a provider."""

    def __init__(self, provider: RefreshState) -> None:
        self.provider = provider
        self.keyring = provider.keyring
        self._generate = generate_token(provider)
        self._id_token = RefreshOpenID(provider)
        self._secure = is_secure_transport(provider.issuer + "/oauth/token")
        # a client as its row reads: a pure function of the row (and the keyring), so a
        # changed row (revoked, new redirect URIs) is a new key; bounded like any cache
        self._clients: dict[_ClientRow, Client] = {}

    def attempt(self, request: OAuthRequest) -> Response | None:
        """The token response, or None: this path cannot answer the request and Authlib's
        grant must (nothing was changed). The request was checked for HTTPS when it was
        built."""
        if request.args:
            return None
        pairs = [(k, v) for k, values in request.payload.datalist.items() for v in values]
        future = self.submit_form(pairs, request.headers)
        return None if future is None else future.result()

    def submit_form(
        self, form: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> Future[Response | None] | None:
        """Queue a token request (its form body as pairs, no query string) without waiting:
        its unit of work on the group commit, then, once committed, its answer (the ID
        token's signature) on a signing thread. None when this path cannot answer the
        request; else the future of the response, which is None when the unit declined
        (Authlib's grant must answer; nothing was changed). Nothing here blocks, on SQLite
        or PostgreSQL: an event loop awaits the future with ``asyncio.wrap_future``."""
        presented = self.presented(form, headers)
        if presented is None:
            return None
        answered: Future[Response | None] = Future()
        unit = self.provider.group.submit(lambda conn: self.rotate(conn, presented))
        unit.add_done_callback(lambda done: self._committed(presented, done, answered))
        return answered

    def _committed(
        self,
        presented: Presented,
        unit: Future[Rotated | None],
        answered: Future[Response | None],
    ) -> None:
        """On the group-commit thread, once the unit's transaction ended: hand the answer to
        a signing thread (the commit thread goes on with the next batch)."""
        try:
            rotated = unit.result()
            if rotated is None:
                answered.set_result(None)
            else:
                _SIGNING.submit(_settle, answered, lambda: self.answer(presented, rotated))
        except BaseException as error:  # the unit's, or no signing thread (shutting down)
            answered.set_exception(error)

    def answer(self, presented: Presented, rotated: Rotated | None) -> Response | None:
        """The token response of a committed unit (None: the unit declined, nothing was
        changed, Authlib's grant must answer)."""
        if rotated is None:
            return None
        return 200, self.respond(presented.token, rotated), list(TOKEN_HEADERS)

    def presented(
        self, pairs: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> Presented | None:
        """Parse a request this path can answer (None otherwise); the next pair is generated."""
        if not self._secure:
            return None  # Authlib refuses plain http to a non-loopback issuer
        form = dict(pairs)
        if len(form) != len(pairs) or not form.keys() <= _FIELDS:
            return None  # a repeated or an unexpected parameter
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return None
        auth = _credentials(headers, form)
        if auth is None:
            return None
        client_id, method, secret = auth
        if not client_id or len(client_id) > _CLIENT_ID_MAX:
            return None
        token = self._generate("refresh_token", None, include_refresh_token=True)
        return Presented(
            client_id,
            method,
            None if secret is None else keys.token_hash(self.keyring, "client:" + secret),
            keys.token_hash(self.keyring, form["refresh_token"]),
            token,
            keys.token_hash(self.keyring, token["access_token"]),
            keys.token_hash(self.keyring, token["refresh_token"]),
        )

    def rotate(self, conn: Connection, p: Presented) -> Rotated | None:
        """The unit of work: check the client, spend the token, check its family and
        account, store the next pair. None, with nothing changed, when a check fails."""
        sql = _STATEMENTS[conn.dialect.paramstyle]
        found = execute(conn, sql.client, (p.client_id,)).first()
        if found is None:
            return None
        row = _ClientRow(*found)
        if row.revoked_at is not None:
            return None
        client = self._clients.get(row)
        if client is None:
            if len(self._clients) >= _MAX_CLIENTS:
                self._clients.clear()
            client = self._clients[row] = client_of(row, self.keyring)
        if not _authenticated(client, p.method, p.secret_hash):
            return None
        now = self.provider.clock()
        spent = execute(conn, sql.spend, (now, p.token_hash, now)).first()
        if spent is None:
            return None  # unknown, spent (Authlib revokes the family), expired, not refresh
        subject_id, session_id = spent
        status = execute(conn, sql.status, (subject_id,)).first()
        family = (
            execute(
                conn, sql.touch, (now, subject_id, session_id, client.client_id, now, now)
            ).first()
            if status is not None and status[0] == "active"
            else None
        )
        if family is None:
            execute(conn, sql.unspend, (p.token_hash,))
            return None
        expires_at, scope, auth_time = family
        access_end = min(now + OAUTH_LIMITS.access * MICROS, expires_at)
        refresh_end = min(now + OAUTH_LIMITS.refresh * MICROS, expires_at)
        execute(
            conn,
            sql.add,
            (
                *(p.access_hash, subject_id, session_id, "access", now, access_end),
                *(p.refresh_hash, subject_id, session_id, "refresh", now, refresh_end),
            ),
        )
        return Rotated(
            client,
            TokenFamily(
                session_id,
                subject_id,
                client.client_id,
                scope or "",
                p.token_hash,
                auth_time,
            ),
        )

    def respond(self, token: dict[str, Any], rotated: Rotated) -> dict[str, Any]:
        """The token response's body: the pair, with a new ID token for an ``openid`` grant of
        a client registered with ``id_token_on_refresh``: the claims Authlib's OpenID
        extension (:class:`RefreshOpenID`) puts in it, signed with the key store's
        :class:`~charter.services.oauth.jwks.Signer` (the same bytes joserfc would make,
        without its per-token checks)."""
        family = rotated.family
        token["scope"] = family.scope
        if rotated.client.id_token_on_refresh and family.scope and is_openid_scope(family.scope):
            token["id_token"] = self.id_token(token["access_token"], rotated)
        return token

    def id_token(self, access_token: str, rotated: Rotated) -> str:
        """The ID token of a refresh (OpenID Connect Core 12.2)."""
        client, family = rotated.client, rotated.family
        claims = self._id_token.get_client_claims(client)
        claims["auth_time"] = family.auth_time // MICROS if family.auth_time else int(time.time())
        half = create_half_hash(access_token, ALGORITHM)
        if half is not None:
            claims["at_hash"] = half.decode("utf-8")
        sub = pairwise_sub(self.keyring, client.sector, family.subject_id)
        user = OAuthUser(family.subject_id, sub, None, None)
        claims.update(self._id_token.generate_user_info(user, family.scope))
        return self.provider.keystore.signer().sign(claims)


def _credentials(
    headers: Mapping[str, str], form: Mapping[str, str]
) -> tuple[str, str, str | None] | None:
    """The client id, authentication method and secret of a token request, when exactly one
    method clearly applies (None otherwise: Authlib's client authentication decides)."""
    if headers.get("Authorization") is not None:
        if "client_secret" in form:
            return None
        client_id, secret = extract_basic_authorization(headers)
        if not client_id or not secret or form.get("client_id", client_id) != client_id:
            return None
        return client_id, "client_secret_basic", secret
    if "client_secret" in form:
        secret = form["client_secret"]
        return (form.get("client_id", ""), "client_secret_post", secret) if secret else None
    return form.get("client_id", ""), "none", None


def _authenticated(client: Client, method: str, secret_hash: str | None) -> bool:
    if not client.check_endpoint_auth_method(method, "token"):
        return False
    if method == "none":
        return True
    return (
        client.secret_hash is not None
        and secret_hash is not None
        and hmac.compare_digest(client.secret_hash, secret_hash)
    )
