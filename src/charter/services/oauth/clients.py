"""
Registered OAuth clients: exact redirect URIs, public (PKCE only) or confidential (a secret
shown once and stored as a keyed hash), and a sector identifier for pairwise ``sub`` values.

The sector is, as OpenID Connect Core §8.1 says, the host of the redirect URIs unless given;
clients of one sector (one company's apps) share a ``sub``, other sectors get unlinkable ones.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, select, update

from charter.crypto import Keyring
from charter.errors import InputError, NotFoundError
from charter.services.account import keys
from charter.services.oauth.tables import clients as oauth_clients

SCOPES = ("openid", "profile")
_LOOPBACK = ("127.0.0.1", "[::1]", "localhost")


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client, as Authlib's ``ClientMixin`` needs it."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    sector: str
    public: bool
    secret_hash: str | None
    keyring: Keyring
    revoked: bool = False

    def get_client_id(self) -> str:
        """The client id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """None: every authorization request must name its redirect URI."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes this provider knows."""
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string match against the registered URIs (RFC 9700 §4.1.3)."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time check of a confidential client's secret."""
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(
            self.secret_hash, keys.token_hash(self.keyring, "client:" + client_secret)
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Public clients authenticate with ``none`` (and PKCE); confidential ones with a secret."""
        if self.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        """Only the authorization code flow (no implicit, no hybrid)."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Authorization code and refresh token grants only."""
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True, slots=True)
class IssuedClient:
    """A newly registered client; ``secret`` (confidential clients) is shown this once."""

    client: Client
    secret: str | None


class ClientRegistry:
    """Clients in the control database."""

    def __init__(
        self, engine_of: Callable[[], Engine], keyring: Keyring, clock: Callable[[], int]
    ) -> None:
        self._engine_of = engine_of
        self.keyring = keyring
        self.clock = clock

    def add(
        self, name: str, redirect_uris: list[str], *, public: bool = True, sector: str | None = None
    ) -> IssuedClient:
        """
        Register a client.

        Raises:
            InputError: no or malformed redirect URIs (https, or http on loopback; no
                fragments), or redirect hosts that differ without an explicit sector.
        """
        if not name or len(name) > 120:
            raise InputError("a client name has 1 to 120 characters", field="name")
        if not redirect_uris:
            raise InputError("register at least one redirect URI", field="redirect_uris")
        hosts = {_check_redirect(u) for u in redirect_uris}
        if sector is None:
            if len(hosts) != 1:
                raise InputError(
                    "redirect URIs on several hosts need an explicit sector", field="sector"
                )
            sector = hosts.pop()
        if not re.fullmatch(r"[A-Za-z0-9.\-:\[\]/_]{1,255}", sector):
            raise InputError("a sector is a host name or URL", field="sector")
        client_id = "c_" + secrets.token_hex(12)
        secret = None if public else secrets.token_urlsafe(32)
        secret_hash = keys.token_hash(self.keyring, "client:" + secret) if secret else None
        with self._engine_of().begin() as conn:
            conn.execute(
                insert(oauth_clients).values(
                    id=client_id,
                    name=name,
                    secret_hash=secret_hash,
                    redirect_uris=json.dumps(list(redirect_uris)),
                    sector=sector,
                    created_at=self.clock(),
                    revoked_at=None,
                )
            )
        return IssuedClient(self.get(client_id), secret)

    def get(self, client_id: str, *, include_revoked: bool = False) -> Client:
        """
        A client by id.

        Raises:
            NotFoundError: unknown (or removed) client.
        """
        with self._engine_of().connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(oauth_clients).where(oauth_clients.c.id == str(client_id)[:64])
            ).first()
        if row is None or (row.revoked_at is not None and not include_revoked):
            raise NotFoundError("no such client", field="client_id")
        return Client(
            row.id,
            row.name,
            tuple(json.loads(row.redirect_uris)),
            row.sector,
            row.secret_hash is None,
            row.secret_hash,
            self.keyring,
            row.revoked_at is not None,
        )

    def find(self, client_id: str) -> Client | None:
        """A live client, or None."""
        try:
            return self.get(client_id)
        except NotFoundError:
            return None

    def list(self) -> list[Client]:
        """Every live client."""
        with self._engine_of().connect().execution_options(readonly=True) as conn:
            ids = (
                conn.execute(
                    select(oauth_clients.c.id)
                    .where(oauth_clients.c.revoked_at.is_(None))
                    .order_by(oauth_clients.c.created_at)
                )
                .scalars()
                .all()
            )
        return [self.get(i) for i in ids]

    def remove(self, client_id: str) -> None:
        """
        Remove a client: its codes and tokens stop working at once.

        Raises:
            NotFoundError: unknown client.
        """
        with self._engine_of().begin() as conn:
            done = conn.execute(
                update(oauth_clients)
                .where(oauth_clients.c.id == client_id, oauth_clients.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            ).rowcount
        if not done:
            raise NotFoundError("no such client", field="client_id")


def _check_redirect(uri: str) -> str:
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise InputError("a redirect URI must be an absolute URL", field="redirect_uris") from None
    if parts.fragment or "#" in uri or not parts.hostname:
        raise InputError("a redirect URI is absolute and has no fragment", field="redirect_uris")
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
    ):
        raise InputError("a redirect URI uses https (http only on loopback)", field="redirect_uris")
    return parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
