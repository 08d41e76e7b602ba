"""
The Authlib adapter: the authorization server, its grants (authorization code with PKCE S256
only, OpenID Connect, refresh tokens with rotation) and the revocation endpoint, each calling
back into :class:`~charter.services.oauth.provider.OAuthProvider` for storage. The provider
knows the protocol's state; this module knows Authlib.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, OpenIDToken, UserInfo
from sqlalchemy import select

from charter.clock import Clock
from charter.services.account import keys
from charter.services.account.sessions import OAUTH_LIMITS
from charter.services.oauth.clients import SCOPES, Client, ClientRegistry
from charter.services.oauth.jwks import ALGORITHM, KeyStore
from charter.services.oauth.model import IssuedCode, OAuthUser, TokenFamily
from charter.services.oauth.tables import codes as oauth_codes


class SigningState(Protocol):
    """What signing ID tokens reads of the provider."""

    issuer: str
    clock: Clock
    keystore: KeyStore


class ProviderState(SigningState, Protocol):
    """What the Authlib adapter calls back into (the
    :class:`~charter.services.oauth.provider.OAuthProvider` provides it)."""

    clients: ClientRegistry

    @property
    def control(self) -> Any: ...

    def save_code(self, code: str, request: Any) -> None: ...

    def redeem_code(self, code: str, client: Client) -> IssuedCode | None: ...

    def check_refresh(self, refresh_token: str) -> TokenFamily | None: ...

    def find_token(self, token: str) -> TokenFamily | None: ...

    def revoke_family(self, family: TokenFamily) -> None: ...

    def save_token_or_revoke(self, token: dict[str, Any], request: Any) -> None: ...

    def user_of(self, subject_id: str, client: Client, *, profile: bool = True) -> OAuthUser: ...


MICROS = 1_000_000
ID_TOKEN_TTL = 300
Response = tuple[int, Any, list[tuple[str, str]]]
"""Authlib's answer: status, body, headers."""


class S256Only(CodeChallenge):  # type: ignore[misc]
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


def generate_token(provider: SigningState) -> Callable[..., dict[str, Any]]:
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


class Signing:
    """How ID tokens are signed and what they say (both grants)."""

    def __init__(self, provider: SigningState) -> None:
        self.provider = provider

    def resolve_client_private_key(self, client: Client) -> Any:
        return self.provider.keystore.signing_key()

    def get_client_algorithm(self, client: Client) -> str:
        return ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.provider.keystore.signing_kid, "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = self.provider.clock() // MICROS
        return {
            "iss": self.provider.issuer,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
        }

    def generate_user_info(self, user: OAuthUser, scope: str) -> UserInfo:
        info = UserInfo(sub=user.sub)
        if "profile" in (scope or "").split():
            for name in ("nickname", "picture"):
                if getattr(user, name) is not None:
                    info[name] = getattr(user, name)
        return info


class RefreshOpenID(Signing, OpenIDToken):  # type: ignore[misc]
    """A refresh of an ``openid`` grant returns a new ID token (OpenID Connect Core 12.2) to
    a client registered with ``id_token_on_refresh``: same ``iss``, ``sub``, ``aud`` and
    ``auth_time``, a new ``iat``, no ``nonce``. Other clients get none (12.2 allows it)."""

    def process_token(self, grant: Any, response: Any) -> Any:
        client: Client | None = grant.request.client
        if client is None or not client.id_token_on_refresh:
            return response[1]
        return super().process_token(grant, response)

    def get_compatible_claims(self, request: Any) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_compatible_claims(request)
        family: TokenFamily | None = request.refresh_token
        if family is not None and family.auth_time:
            claims["auth_time"] = family.auth_time // MICROS
        return claims


def build_server(provider: ProviderState) -> AuthorizationServer:
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

        def query_authorization_code(self, code: str, client: Client) -> IssuedCode | None:
            return provider.redeem_code(code, client)

        def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
            return None  # kept, marked used, so that a second redemption is recognised

        def authenticate_user(self, authorization_code: IssuedCode) -> OAuthUser:
            return provider.user_of(authorization_code.subject_id, self.request.client)

    class Refresh(RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> TokenFamily | None:
            return provider.check_refresh(refresh_token)

        def authenticate_user(self, refresh_token: TokenFamily) -> OAuthUser:
            return provider.user_of(refresh_token.subject_id, self.request.client, profile=False)

        def revoke_old_credential(self, refresh_token: TokenFamily) -> None:
            return None  # spent atomically with the new pair in save_token

    class OpenID(Signing, OpenIDCode):  # type: ignore[misc]
        def __init__(self) -> None:
            Signing.__init__(self, provider)
            OpenIDCode.__init__(self, require_nonce=False)

        def exists_nonce(self, nonce: str, request: Any) -> bool:
            with provider.control.connect().execution_options(readonly=True) as conn:
                found = conn.execute(
                    select(oauth_codes.c.hash).where(
                        oauth_codes.c.client_id == request.payload.client_id,
                        oauth_codes.c.nonce == nonce,
                    )
                ).first()
            return found is not None

    class Revocation(RevocationEndpoint):  # type: ignore[misc]
        CLIENT_AUTH_METHODS = auth_methods

        def query_token(self, token_string: str, token_type_hint: str | None) -> TokenFamily | None:
            return provider.find_token(token_string)

        def revoke_token(self, token: TokenFamily, request: Any) -> None:
            provider.revoke_family(token)

    server = Server(scopes_supported=list(SCOPES))
    server.register_token_generator("default", generate_token(provider))
    server.register_grant(CodeGrant, [S256Only(required=True), OpenID()])
    server.register_grant(Refresh, [RefreshOpenID(provider)])
    server.register_endpoint(Revocation)
    return server
