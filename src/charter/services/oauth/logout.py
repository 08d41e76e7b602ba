"""
An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0): what the app sent,
checked against what it registered.

- ``id_token_hint``: an ID token this provider issued (its signature must verify with a
  published key and its issuer must be ours; an expired one is accepted, as the
  specification allows); it names the client (``aud``) and the person (``sub``).
- ``client_id``: needed when there is no hint; when both are sent they must agree.
- ``post_logout_redirect_uri``: only a URI the client registered for logout (exact match),
  and only when the client is known; ``state`` goes back with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from charter.services.oauth.clients import Client
from charter.services.oauth.outcomes import Stop

if TYPE_CHECKING:
    from charter.services.oauth.provider import OAuthProvider

_MAX = 4096


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    """The parameters of ``/oauth/logout``."""

    id_token_hint: str | None = None
    client_id: str | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None

    @classmethod
    def of(cls, params: dict[str, str]) -> LogoutRequest:
        """From query or form parameters (unknown ones are ignored, as the spec says)."""

        def get(name: str) -> str | None:
            value = params.get(name)
            return value[:_MAX] if value else None

        return cls(
            get("id_token_hint"), get("client_id"), get("post_logout_redirect_uri"), get("state")
        )

    def params(self) -> list[tuple[str, str]]:
        """The parameters, for the confirmation form."""
        return [
            (name, value)
            for name, value in (
                ("id_token_hint", self.id_token_hint),
                ("client_id", self.client_id),
                ("post_logout_redirect_uri", self.post_logout_redirect_uri),
                ("state", self.state),
            )
            if value
        ]

    def check(self, provider: OAuthProvider) -> tuple[Client | None, str | None] | Stop:
        """The client and the hinted pairwise ``sub``, or why the request is refused."""
        client_id, sub = self.client_id, None
        if self.id_token_hint:
            claims = _hint_claims(provider, self.id_token_hint)
            if claims is None:
                return Stop(
                    "invalid_request",
                    "the id_token_hint is not an ID token issued by this provider",
                )
            audience = claims.get("aud")
            audiences = (
                [audience]
                if isinstance(audience, str)
                else [a for a in audience if isinstance(a, str)]
                if isinstance(audience, list)
                else []
            )
            if client_id and client_id not in audiences:
                return Stop("invalid_request", "the client_id does not match the id_token_hint")
            client_id = client_id or (audiences[0] if audiences else None)
            hinted = claims.get("sub")
            sub = hinted if isinstance(hinted, str) else None
        client = provider.clients.find(client_id) if client_id else None
        if client_id and client is None:
            return Stop("invalid_client", "this app is not registered, or was removed")
        if self.post_logout_redirect_uri:
            if client is None:
                return Stop(
                    "invalid_request",
                    "a post_logout_redirect_uri needs a client_id or an id_token_hint",
                )
            if self.post_logout_redirect_uri not in client.post_logout_redirect_uris:
                return Stop(
                    "invalid_request",
                    "the post_logout_redirect_uri is not registered for this app",
                )
        return client, sub

    def redirect_to(self) -> str | None:
        """Where to send the browser after signing out (only after :meth:`check` passed)."""
        if not self.post_logout_redirect_uri:
            return None
        if not self.state:
            return self.post_logout_redirect_uri
        joiner = "&" if "?" in self.post_logout_redirect_uri else "?"
        return self.post_logout_redirect_uri + joiner + urlencode({"state": self.state})


def _hint_claims(provider: OAuthProvider, token: str) -> dict[str, object] | None:
    try:
        keys = KeySet.import_key_set(provider.keystore.public_jwks())  # type: ignore[arg-type]
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
    except (JoseError, ValueError, TypeError):
        return None
    claims = dict(decoded.claims)
    if claims.get("iss") != provider.issuer:
        return None
    return claims
