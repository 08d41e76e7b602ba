"""
What the OAuth provider hands to Authlib and back: the signed-in end user, an issued
authorization code, a refresh-token family and the user a token is issued for.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.services.oauth.clients import Client

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class EndUser:
    """The signed-in person an authorization is for."""

    subject_id: str
    auth_time: int

    def get_user_id(self) -> str:
        """Authlib's user id."""
        return self.subject_id


@dataclass(frozen=True, slots=True)
class IssuedCode:
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
class TokenFamily:
    """A refresh or access token's family, as Authlib's token model."""

    session_id: str
    subject_id: str
    client_id: str
    scope: str
    token_hash: str = ""
    auth_time: int = 0
    """When the person last signed in for this grant (microseconds)."""

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True, slots=True)
class OAuthUser:
    """The token endpoint's user: the account and the sector it is seen from."""

    subject_id: str
    sub: str
    nickname: str | None
    picture: str | None

    def get_user_id(self) -> str:
        return self.subject_id


class RefreshRaceError(Exception):
    """Two requests spent the same refresh token at once; the later one lost."""
