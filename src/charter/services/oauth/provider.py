"""
The OpenID provider: Authlib's authorization server wired to Charter's accounts, sessions
and keys.

- Authorization code grant only (no implicit, hybrid or password grant), PKCE with ``S256``
  required for every client (``plain`` refused), exact redirect URIs, one-time codes living
  60 seconds; a code presented twice is refused and the tokens issued from it are revoked.
- Refresh tokens rotate; a spent one presented again revokes its whole family.
- ID tokens are RS256-signed JWTs whose ``sub`` is the pairwise identifier of the client's
  sector; userinfo releases ``sub``, ``nickname`` and ``picture`` only.
- Consent is recorded per (account, client) and listed/revoked under "Accounts & Permission";
  revoking kills that client's tokens at once.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from sqlalchemy import and_, insert, select, update

from charter.errors import AuthError, NotFoundError
from charter.services.account import keys
from charter.services.account.records import AccountRecords
from charter.services.account.sessions import OAUTH_LIMITS, TokenStore
from charter.services.account.tables import (
    accounts,
    oauth_clients,
    oauth_codes,
    oauth_grants,
    sessions,
    tokens,
)
from charter.services.oauth.clients import SCOPES, Client, ClientRegistry
from charter.services.oauth.jwks import ALGORITHM, KeyStore
from charter.services.oauth.pairwise import pairwise_sub
from charter.services.oauth.requests import OAuthRequest
from charter.store.groupcommit import GroupCommit

if TYPE_CHECKING:
    from charter.gate import Gate

MICROS = 1_000_000
CODE_TTL = 60
ID_TOKEN_TTL = 300
REUSED = -1
"""``oauth_codes.expires_at`` marker: a second redemption was seen before tokens were saved."""

Response = tuple[int, Any, list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class EndUser:
    """The signed-in person an authorization is for."""

    subject_id: str
    auth_time: int

    def get_user_id(self) -> str:
        """Authlib's user id."""
        return self.subject_id


@dataclass(frozen=True, slots=True)
class _Code:
    hash: str
    client_id: str
    subject_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    challenge: str
    auth_time: int

    code_challenge_method = "S256"

    @property
    def code_challenge(self) -> str:
        return self.challenge

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time // MICROS

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _Family:
    """A refresh or access token's family, as Authlib's token model."""

    session_id: str
    subject_id: str
    client_id: str
    scope: str
    token_hash: str = ""

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True, slots=True)
class _Subject:
    """The token endpoint's user: the account and the sector it is seen from."""

    subject_id: str
    sub: str
    nickname: str | None
    picture: str | None

    def get_user_id(self) -> str:
        return self.subject_id


class _RefreshRaceError(Exception):
    """Two requests spent the same refresh token at once; the later one lost."""


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE, always required, ``S256`` only (Authlib's helper would also accept ``plain``)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256",
                redirect_uri=redirect_uri,
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "only code_challenge_method=S256 is supported", redirect_uri=redirect_uri
            )
        super().validate_code_challenge(grant, redirect_uri)


class OAuthProvider:
    """The OAuth 2.0 / OpenID Connect provider of a deployment."""

    def __init__(self, gate: Gate, *, issuer: str, keystore: KeyStore | None = None) -> None:
        self.gate = gate
        self.issuer = issuer.rstrip("/")
        self.keyring = gate.keyring
        self.clock = gate.clock
        self.clients = ClientRegistry(gate.stores.control, gate.keyring, gate.clock)
        self.tokens = TokenStore(gate.stores.control, gate.keyring, gate.clock)
        self.keystore = keystore or KeyStore.for_data_dir(gate.stores.settings.data_dir)
        self.group = GroupCommit(gate.stores.control)
        self.server = _build_server(self)
        self._lock = threading.Lock()

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    # -- discovery -------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider metadata (``/.well-known/openid-configuration``)."""
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "userinfo_endpoint": f"{base}/oauth/userinfo",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "claims_supported": [
                "sub",
                "nickname",
                "picture",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
            ],
            "authorization_response_iss_parameter_supported": False,
        }

    # -- authorization endpoint ------------------------------------------------------------

    def validate_authorization(self, request: OAuthRequest, user: EndUser | None) -> Any:
        """
        Validate an authorization request (client, exact redirect URI, response type, scope,
        PKCE, nonce); returns Authlib's grant.

        Raises:
            OAuth2Error: invalid; ``error.redirect_uri`` is set when it may go back to the client.
        """
        return self.server.get_consent_grant(request, end_user=user)

    def authorize(self, request: OAuthRequest, grant: Any, user: EndUser | None) -> Response:
        """Answer a validated request: a code (``user`` given) or ``access_denied``."""
        if user is not None:
            scope = grant.request.payload.scope or ""
            now = self.clock()
            with self.control.begin() as conn:
                updated = conn.execute(
                    update(oauth_grants)
                    .where(
                        oauth_grants.c.subject_id == user.subject_id,
                        oauth_grants.c.client_id == grant.client.client_id,
                    )
                    .values(scope=scope, granted_at=now, revoked_at=None)
                ).rowcount
                if not updated:
                    conn.execute(
                        insert(oauth_grants).values(
                            subject_id=user.subject_id,
                            client_id=grant.client.client_id,
                            scope=scope,
                            granted_at=now,
                            revoked_at=None,
                        )
                    )
        result: Response = self.server.create_authorization_response(
            request, grant_user=user, grant=grant
        )
        return result

    def has_consent(self, subject_id: str, client_id: str, scope: str) -> bool:
        """Whether the person already authorized this client for ``scope``."""
        with self.control.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(oauth_grants.c.scope).where(
                    oauth_grants.c.subject_id == subject_id,
                    oauth_grants.c.client_id == client_id,
                    oauth_grants.c.revoked_at.is_(None),
                )
            ).first()
        return row is not None and set(scope.split()) <= set(row.scope.split())

    def error_response(self, request: OAuthRequest, error: OAuth2Error) -> Response:
        """The response of an OAuth error (a redirect when Authlib allows one)."""
        result: Response = self.server.handle_error_response(request, error)
        return result

    def csrf_token(self, session_id: str, request: OAuthRequest) -> str:
        """The consent form's anti-forgery token, bound to the session and the request."""
        params = urlencode(
            sorted(
                (k, v)
                for k, vs in request.payload.datalist.items()
                for v in vs
                if k not in ("csrf", "decision")
            )
        )
        return keys.token_hash(self.keyring, f"consent:{session_id}:{params}")

    def check_csrf(self, session_id: str, request: OAuthRequest, token: str) -> bool:
        """Whether a consent form came from the page this session was shown."""
        return hmac.compare_digest(self.csrf_token(session_id, request), str(token))

    # -- token, revocation, userinfo -------------------------------------------------------

    def token(self, request: OAuthRequest) -> Response:
        """The token endpoint (authorization_code and refresh_token grants)."""
        result: Response = self.server.create_token_response(request)
        return result

    def revoke(self, request: OAuthRequest) -> Response:
        """The revocation endpoint (RFC 7009): revokes the token's whole family."""
        result: Response = self.server.create_endpoint_response(
            RevocationEndpoint.ENDPOINT_NAME, request
        )
        return result

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """
        The claims of an OAuth access token: ``sub`` and, with ``profile``, nickname and picture.

        Raises:
            AuthError: invalid, expired or revoked token, or removed client.
        """
        info = self.tokens.authenticate(access_token, kind="oauth")
        client = self.clients.find(info.client_id or "")
        if client is None:
            raise AuthError("the access token is invalid or expired", code="invalid_token")
        return self.claims(info.subject_id, client, info.scope or "")

    def claims(self, subject_id: str, client: Client, scope: str) -> dict[str, Any]:
        """What a client may see of an account: the pairwise ``sub``, nickname and picture."""
        out: dict[str, Any] = {"sub": pairwise_sub(self.keyring, client.sector, subject_id)}
        if "profile" in scope.split():
            record = AccountRecords(self.gate).latest(subject_id, "profile_data")
            value = record.value if record and isinstance(record.value, dict) else {}
            out["nickname"] = value.get("nickname")
            out["picture"] = value.get("picture")
        return out

    # -- Accounts & Permission -------------------------------------------------------------

    def authorizations(self, subject_id: str) -> list[dict[str, Any]]:
        """The clients this person has authorized."""
        g, c = oauth_grants, oauth_clients
        with self.control.connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(g.c.client_id, g.c.scope, g.c.granted_at, c.c.name)
                .join(c, c.c.id == g.c.client_id)
                .where(
                    g.c.subject_id == subject_id, g.c.revoked_at.is_(None), c.c.revoked_at.is_(None)
                )
                .order_by(g.c.granted_at)
            ).all()
        return [
            {"client_id": r.client_id, "name": r.name, "scope": r.scope, "granted_at": r.granted_at}
            for r in rows
        ]

    def revoke_authorization(self, subject_id: str, client_id: str) -> None:
        """
        Withdraw an authorization: the client's tokens for this person die at once.

        Raises:
            NotFoundError: the person has not authorized this client.
        """
        with self.control.begin() as conn:
            done = conn.execute(
                update(oauth_grants)
                .where(
                    oauth_grants.c.subject_id == subject_id,
                    oauth_grants.c.client_id == client_id,
                    oauth_grants.c.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock())
            ).rowcount
            if not done:
                raise NotFoundError("no such authorization", field="client_id")
            self.tokens.revoke_where(
                conn,
                subject_id=subject_id,
                kind="oauth",
                client_id=client_id,
                why="authorization_revoked",
            )

    def remove_client(self, client_id: str) -> None:
        """Remove a client and end every token family issued to it."""
        self.clients.remove(client_id)
        with self.control.begin() as conn:
            ids = (
                conn.execute(
                    select(sessions.c.id).where(
                        sessions.c.client_id == client_id, sessions.c.revoked_at.is_(None)
                    )
                )
                .scalars()
                .all()
            )
            for session_id in ids:
                self.tokens.revoke(conn, session_id, why="client_removed")

    # -- storage hooks used by the grants --------------------------------------------------

    def save_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        user: EndUser = request.user
        now = self.clock()
        with self.control.begin() as conn:
            conn.execute(
                insert(oauth_codes).values(
                    hash=keys.token_hash(self.keyring, code),
                    client_id=request.client.client_id,
                    subject_id=user.subject_id,
                    redirect_uri=data.get("redirect_uri"),
                    scope=data.get("scope") or "",
                    nonce=data.get("nonce"),
                    challenge=data.get("code_challenge"),
                    auth_time=user.auth_time,
                    created_at=now,
                    expires_at=now + CODE_TTL * MICROS,
                    used_at=None,
                    session_id=None,
                )
            )

    def redeem_code(self, code: str, client: Client) -> _Code | None:
        h = keys.token_hash(self.keyring, str(code))
        now = self.clock()
        with self.control.begin() as conn:
            row = conn.execute(select(oauth_codes).where(oauth_codes.c.hash == h)).first()
            if row is None or row.client_id != client.client_id:
                return None
            spent = conn.execute(
                update(oauth_codes)
                .where(oauth_codes.c.hash == h, oauth_codes.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if spent != 1:
                if row.session_id:
                    self.tokens.revoke(conn, row.session_id, why="code_reuse")
                else:
                    conn.execute(
                        update(oauth_codes).where(oauth_codes.c.hash == h).values(expires_at=REUSED)
                    )
                return None
            if row.expires_at <= now or not self._usable(conn, row.subject_id):
                return None
        return _Code(
            h,
            row.client_id,
            row.subject_id,
            row.redirect_uri,
            row.scope,
            row.nonce,
            row.challenge,
            row.auth_time,
        )

    def _usable(self, conn: Any, subject_id: str) -> bool:
        status = conn.execute(
            select(accounts.c.status).where(accounts.c.subject_id == subject_id)
        ).scalar()
        return bool(status == "active")

    def check_refresh(self, refresh_token: str) -> _Family | None:
        """Validate a refresh token without spending it (``_save_token`` spends it atomically
        in the same transaction that stores the next pair). A spent one revokes its family."""
        h = keys.token_hash(self.keyring, str(refresh_token))
        now = self.clock()
        with self.control.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(
                    sessions,
                    tokens.c.expires_at.label("token_expires"),
                    tokens.c.used_at,
                    accounts.c.status,
                )
                .join(tokens, tokens.c.session_id == sessions.c.id)
                .join(accounts, accounts.c.subject_id == sessions.c.subject_id)
                .where(tokens.c.hash == h, tokens.c.kind == "refresh", sessions.c.kind == "oauth")
            ).first()
        if row is None:
            return None
        if row.used_at is not None:
            with self.control.begin() as conn:
                self.tokens.revoke(conn, row.id, why="refresh_reuse")
            return None
        alive = (
            row.revoked_at is None
            and row.expires_at > now
            and now - row.last_used_at <= row.idle_micros
        )
        if row.token_expires <= now or not alive or row.status != "active":
            return None
        return _Family(row.id, row.subject_id, row.client_id, row.scope or "", h)

    def find_token(self, token: str) -> _Family | None:
        h = keys.token_hash(self.keyring, str(token))
        with self.control.connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(sessions)
                .join(tokens, tokens.c.session_id == sessions.c.id)
                .where(tokens.c.hash == h, sessions.c.kind == "oauth")
            ).first()
        if row is None:
            return None
        return _Family(row.id, row.subject_id, row.client_id, row.scope or "")

    def revoke_family(self, family: _Family) -> None:
        with self.control.begin() as conn:
            self.tokens.revoke(conn, family.session_id, why="revoked_by_client")

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        self.group.run(lambda conn: self._save_token_in(conn, token, request))

    def _save_token_in(self, conn: Any, token: dict[str, Any], request: Any) -> None:
        client: Client = request.client
        family: _Family | None = request.refresh_token
        if family is not None:
            session_id = family.session_id
            spent = conn.execute(
                update(tokens)
                .where(tokens.c.hash == family.token_hash, tokens.c.used_at.is_(None))
                .values(used_at=self.clock())
            ).rowcount
            if spent != 1:
                raise _RefreshRaceError()
            self.tokens.touch(conn, session_id)
        else:
            code: _Code = request.authorization_code
            session_id = self.tokens.create_family(
                conn,
                subject_id=code.subject_id,
                kind="oauth",
                limits=OAUTH_LIMITS,
                client_id=client.client_id,
                scope=code.scope,
                auth_time=code.auth_time,
            )
            conn.execute(
                update(oauth_codes)
                .where(oauth_codes.c.hash == code.hash)
                .values(session_id=session_id)
            )
        self.tokens.add_pair(
            conn, session_id, token["access_token"], token.get("refresh_token"), OAUTH_LIMITS
        )
        if family is None:
            reused = conn.execute(
                select(oauth_codes.c.expires_at).where(
                    and_(oauth_codes.c.hash == request.authorization_code.hash)
                )
            ).scalar()
            if reused == REUSED:
                self.tokens.revoke(conn, session_id, why="code_reuse")

    def save_token_or_revoke(self, token: dict[str, Any], request: Any) -> None:
        try:
            self._save_token(token, request)
        except _RefreshRaceError:
            with self.control.begin() as conn:
                self.tokens.revoke(conn, request.refresh_token.session_id, why="refresh_reuse")
            raise InvalidGrantError(
                "the refresh token was already used; the grant is revoked"
            ) from None

    def user_of(self, subject_id: str, client: Client, *, profile: bool = True) -> _Subject:
        if not profile:
            return _Subject(
                subject_id, pairwise_sub(self.keyring, client.sector, subject_id), None, None
            )
        claims = self.claims(subject_id, client, "openid profile")
        return _Subject(subject_id, claims["sub"], claims.get("nickname"), claims.get("picture"))


def _generate_token(provider: OAuthProvider) -> Callable[..., dict[str, Any]]:
    def generate(
        grant_type: str,
        client: Client,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": keys.new_token("oat"),
            "expires_in": OAUTH_LIMITS.access,
            "scope": scope or "",
        }
        if include_refresh_token:
            token["refresh_token"] = keys.new_token("ort")
        return token

    return generate


def _build_server(provider: OAuthProvider) -> AuthorizationServer:
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]

    class Server(AuthorizationServer):  # type: ignore[misc]
        def query_client(self, client_id: str) -> Client | None:
            return provider.clients.find(str(client_id or ""))

        def save_token(self, token: dict[str, Any], request: Any) -> None:
            provider.save_token_or_revoke(token, request)

        def create_oauth2_request(self, request: Any) -> Any:
            return request

        def create_json_request(self, request: Any) -> Any:
            return request

        def handle_response(self, status: int, body: Any, headers: Any) -> Response:
            return status, body, list(headers)

        def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
            return None

    class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods

        @staticmethod
        def validate_authorization_redirect_uri(request: Any, client: Client) -> str:
            uri = request.payload.redirect_uri
            if not uri or not client.check_redirect_uri(uri):
                raise InvalidRequestError(
                    "the redirect_uri is missing or not registered for this client"
                )
            return str(uri)

        def save_authorization_code(self, code: str, request: Any) -> None:
            provider.save_code(code, request)

        def query_authorization_code(self, code: str, client: Client) -> _Code | None:
            return provider.redeem_code(code, client)

        def delete_authorization_code(self, authorization_code: _Code) -> None:
            return None  # kept, marked used, so that a second redemption is recognised

        def authenticate_user(self, authorization_code: _Code) -> _Subject:
            return provider.user_of(authorization_code.subject_id, self.request.client)

    class Refresh(RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> _Family | None:
            return provider.check_refresh(refresh_token)

        def authenticate_user(self, refresh_token: _Family) -> _Subject:
            return provider.user_of(refresh_token.subject_id, self.request.client, profile=False)

        def revoke_old_credential(self, refresh_token: _Family) -> None:
            return None  # spent atomically with the new pair in save_token

    class OpenID(OpenIDCode):  # type: ignore[misc]
        def exists_nonce(self, nonce: str, request: Any) -> bool:
            with provider.control.connect().execution_options(readonly=True) as conn:
                found = conn.execute(
                    select(oauth_codes.c.hash).where(
                        oauth_codes.c.client_id == request.payload.client_id,
                        oauth_codes.c.nonce == nonce,
                    )
                ).first()
            return found is not None

        def resolve_client_private_key(self, client: Client) -> Any:
            return provider.keystore.signing_key()

        def get_client_algorithm(self, client: Client) -> str:
            return ALGORITHM

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": ALGORITHM, "kid": provider.keystore.signing_kid, "typ": "JWT"}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            now = provider.clock() // MICROS
            return {
                "iss": provider.issuer,
                "aud": [client.client_id],
                "iat": now,
                "exp": now + ID_TOKEN_TTL,
            }

        def generate_user_info(self, user: _Subject, scope: str) -> UserInfo:
            info = UserInfo(sub=user.sub)
            if "profile" in (scope or "").split():
                info["nickname"] = user.nickname
                info["picture"] = user.picture
            return info

    class Revocation(RevocationEndpoint):  # type: ignore[misc]
        CLIENT_AUTH_METHODS = auth_methods

        def query_token(self, token_string: str, token_type_hint: str | None) -> _Family | None:
            return provider.find_token(token_string)

        def revoke_token(self, token: _Family, request: Any) -> None:
            provider.revoke_family(token)

    server = Server(scopes_supported=list(SCOPES))
    server.register_token_generator("default", _generate_token(provider))
    server.register_grant(CodeGrant, [_S256Only(required=True), OpenID(require_nonce=False)])
    server.register_grant(Refresh)
    server.register_endpoint(Revocation)
    return server
