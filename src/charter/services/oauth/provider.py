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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidGrantError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from sqlalchemy import and_, insert, select, update

from charter.errors import AuthError, NotFoundError
from charter.services.account import keys
from charter.services.account.records import AccountRecords
from charter.services.account.sessions import OAUTH_LIMITS, TokenStore
from charter.services.account.tables import accounts, sessions, tokens
from charter.services.oauth.clients import SCOPES, Client, ClientRegistry
from charter.services.oauth.jwks import ALGORITHM, KeyStore
from charter.services.oauth.model import (
    EndUser,
    IssuedCode,
    OAuthUser,
    RefreshRaceError,
    TokenFamily,
)
from charter.services.oauth.pairwise import pairwise_sub
from charter.services.oauth.refresh import FastRefresh
from charter.services.oauth.requests import OAuthRequest
from charter.services.oauth.server import build_server
from charter.services.oauth.tables import clients as oauth_clients
from charter.services.oauth.tables import codes as oauth_codes
from charter.services.oauth.tables import grants as oauth_grants
from charter.store.groupcommit import GroupCommit

if TYPE_CHECKING:
    from charter.gate import Gate

MICROS = 1_000_000
CODE_TTL = 60
ID_TOKEN_TTL = 300
REUSED = -1
"""``oauth_codes.expires_at`` marker: a second redemption was seen before tokens were saved."""

Response = tuple[int, Any, list[tuple[str, str]]]


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
        self.server = build_server(self)
        self.fast_refresh = FastRefresh(self)
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
            "end_session_endpoint": f"{base}/oauth/logout",
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
            "authorization_response_iss_parameter_supported": True,
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
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
        """Answer a validated request: a code (``user`` given; the person's authorization of
        the client is recorded with the code, in one transaction) or ``access_denied``."""
        result: Response = self.server.create_authorization_response(
            request, grant_user=user, grant=grant
        )
        return self._with_iss(result)

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
        """The response of an OAuth error (a redirect when Authlib allows one), with the
        request's ``state`` and the ``iss`` parameter."""
        if getattr(error, "state", None) is None:
            error.state = request.payload.state
        result: Response = self.server.handle_error_response(request, error)
        return self._with_iss(result)

    def _with_iss(self, result: Response) -> Response:
        """Add ``iss`` to a redirect back to the client (RFC 9207), so that an app talking to
        several providers can tell which one answered."""
        status, body, headers = result
        out = []
        for name, value in headers:
            if name.lower() == "location":
                joiner = "&" if "?" in value else "?"
                out.append((name, value + joiner + urlencode({"iss": self.issuer})))
            else:
                out.append((name, value))
        return status, body, out

    def pairwise(self, client: Client, subject_id: str) -> str:
        """The ``sub`` a client sees for an account."""
        return pairwise_sub(self.keyring, client.sector, subject_id)

    def cors_allowed(self, origin: str) -> bool:
        """Whether a browser app at ``origin`` may call the token, userinfo, discovery and
        JWKS endpoints: only the origins of registered redirect URIs."""
        return origin in self.clients.origins()

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
        """The token endpoint: a plain refresh in one transaction (:mod:`.refresh`), any
        other request and every refusal by Authlib's grants (:meth:`grant_token`)."""
        return self.fast_refresh.attempt(request) or self.grant_token(request)

    def grant_token(self, request: OAuthRequest) -> Response:
        """The token endpoint as Authlib's grants answer it (authorization_code, refresh)."""
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
            ids = conn.execute(
                select(sessions.c.subject_id, sessions.c.id).where(
                    sessions.c.client_id == client_id, sessions.c.revoked_at.is_(None)
                )
            ).all()
            for subject_id, session_id in ids:
                self.tokens.revoke(conn, session_id, why="client_removed", subject_id=subject_id)

    # -- storage hooks used by the grants --------------------------------------------------

    def save_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        user: EndUser = request.user
        client_id = request.client.client_id
        scope = data.get("scope") or ""
        now = self.clock()
        with self.control.begin() as conn:
            self._record_grant(conn, user.subject_id, client_id, scope, now)
            conn.execute(
                insert(oauth_codes).values(
                    hash=keys.token_hash(self.keyring, code),
                    client_id=client_id,
                    subject_id=user.subject_id,
                    redirect_uri=data.get("redirect_uri"),
                    scope=scope,
                    nonce=data.get("nonce"),
                    challenge=data.get("code_challenge"),
                    auth_time=user.auth_time,
                    created_at=now,
                    expires_at=now + CODE_TTL * MICROS,
                    used_at=None,
                    session_id=None,
                )
            )

    @staticmethod
    def _record_grant(conn: Any, subject_id: str, client_id: str, scope: str, now: int) -> None:
        """The person authorized the client for ``scope`` (Accounts & Permission lists it)."""
        updated = conn.execute(
            update(oauth_grants)
            .where(oauth_grants.c.subject_id == subject_id, oauth_grants.c.client_id == client_id)
            .values(scope=scope, granted_at=now, revoked_at=None)
        ).rowcount
        if not updated:
            conn.execute(
                insert(oauth_grants).values(
                    subject_id=subject_id,
                    client_id=client_id,
                    scope=scope,
                    granted_at=now,
                    revoked_at=None,
                )
            )

    def redeem_code(self, code: str, client: Client) -> IssuedCode | None:
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
                    self.tokens.revoke(
                        conn, row.session_id, why="code_reuse", subject_id=row.subject_id
                    )
                else:
                    conn.execute(
                        update(oauth_codes).where(oauth_codes.c.hash == h).values(expires_at=REUSED)
                    )
                return None
            if row.expires_at <= now or not self._usable(conn, row.subject_id):
                return None
        return IssuedCode(
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

    def check_refresh(self, refresh_token: str) -> TokenFamily | None:
        """Validate a refresh token without spending it (``_save_token`` spends it atomically
        in the same transaction that stores the next pair). A spent one revokes its family."""
        h = keys.token_hash(self.keyring, str(refresh_token))
        now = self.clock()
        with self.control.connect().execution_options(readonly=True) as conn:
            # the token by its hash, then its session and account by subject: single-node
            # queries under Citus (no join across the key and subject tables)
            found = self.tokens.refresh_token_row(conn, h)
            if found is None or found[0].kind != "oauth":
                return None
            row, token_expires, used_at = found
            status = conn.execute(
                select(accounts.c.status).where(accounts.c.subject_id == row.subject_id)
            ).scalar()
        if used_at is not None:
            with self.control.begin() as conn:
                self.tokens.revoke(conn, row.id, why="refresh_reuse", subject_id=row.subject_id)
            return None
        alive = (
            row.revoked_at is None
            and row.expires_at > now
            and now - row.last_used_at <= row.idle_micros
        )
        if token_expires <= now or not alive or status != "active":
            return None
        return TokenFamily(row.id, row.subject_id, row.client_id, row.scope or "", h, row.auth_time)

    def find_token(self, token: str) -> TokenFamily | None:
        h = keys.token_hash(self.keyring, str(token))
        with self.control.connect().execution_options(readonly=True) as conn:
            named = conn.execute(
                select(tokens.c.subject_id, tokens.c.session_id).where(tokens.c.hash == h)
            ).first()
            row = (
                None
                if named is None
                else conn.execute(
                    select(sessions).where(
                        sessions.c.subject_id == named.subject_id,
                        sessions.c.id == named.session_id,
                        sessions.c.kind == "oauth",
                    )
                ).first()
            )
        if row is None:
            return None
        return TokenFamily(row.id, row.subject_id, row.client_id, row.scope or "")

    def revoke_family(self, family: TokenFamily) -> None:
        with self.control.begin() as conn:
            self.tokens.revoke(
                conn, family.session_id, why="revoked_by_client", subject_id=family.subject_id
            )

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        self.group.run(lambda conn: self._save_token_in(conn, token, request))

    def _save_token_in(self, conn: Any, token: dict[str, Any], request: Any) -> None:
        client: Client = request.client
        family: TokenFamily | None = request.refresh_token
        if family is not None:
            session_id = family.session_id
            spent = conn.execute(
                update(tokens)
                .where(tokens.c.hash == family.token_hash, tokens.c.used_at.is_(None))
                .values(used_at=self.clock())
            ).rowcount
            if spent != 1:
                raise RefreshRaceError()
            subject_id = family.subject_id
            self.tokens.touch(conn, session_id, subject_id=subject_id)
        else:
            code: IssuedCode = request.authorization_code
            subject_id = code.subject_id
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
            conn,
            session_id,
            token["access_token"],
            token.get("refresh_token"),
            OAUTH_LIMITS,
            subject_id,
        )
        if family is None:
            reused = conn.execute(
                select(oauth_codes.c.expires_at).where(
                    and_(oauth_codes.c.hash == request.authorization_code.hash)
                )
            ).scalar()
            if reused == REUSED:
                self.tokens.revoke(conn, session_id, why="code_reuse", subject_id=subject_id)

    def save_token_or_revoke(self, token: dict[str, Any], request: Any) -> None:
        try:
            self._save_token(token, request)
        except RefreshRaceError:
            with self.control.begin() as conn:
                family = request.refresh_token
                self.tokens.revoke(
                    conn, family.session_id, why="refresh_reuse", subject_id=family.subject_id
                )
            raise InvalidGrantError(
                "the refresh token was already used; the grant is revoked"
            ) from None

    def user_of(self, subject_id: str, client: Client, *, profile: bool = True) -> OAuthUser:
        if not profile:
            return OAuthUser(
                subject_id, pairwise_sub(self.keyring, client.sector, subject_id), None, None
            )
        claims = self.claims(subject_id, client, "openid profile")
        return OAuthUser(subject_id, claims["sub"], claims.get("nickname"), claims.get("picture"))
