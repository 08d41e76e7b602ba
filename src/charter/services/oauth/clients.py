"""
Registered OAuth clients: exact redirect URIs, public (PKCE only) or confidential (a secret
shown once and stored as a keyed hash), and a sector identifier for pairwise ``sub`` values.

The sector is, as OpenID Connect Core §8.1 says, the host of the redirect URIs (without a
port), or the host of the client's ``sector_identifier_uri``: an https URL serving a JSON
array that lists every redirect URI of the client, fetched and checked at registration.
Clients of one sector (one company's apps) share a ``sub``; other sectors get unlinkable ones.

A client may also register ``post_logout_redirect_uris`` (RP-initiated logout), matched
exactly; the origins of its redirect URIs are where its single-page app may call the token
and userinfo endpoints from (CORS).

A refresh of an ``openid`` grant returns an access and a refresh token, and a new ID token
only for a client registered with ``id_token_on_refresh`` (OpenID Connect Core §12.2 lets
the response omit it): the ID token of the sign-in already says who signed in, and signing
one per refresh costs the provider an RSA signature. Clients registered before this setting
existed (migration 0026) keep receiving one.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
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
    post_logout_redirect_uris: tuple[str, ...] = ()
    sector_identifier_uri: str | None = None
    created_at: int = 0
    id_token_on_refresh: bool = False
    """Whether a refresh of an ``openid`` grant returns a new ID token (see the module)."""

    @property
    def origins(self) -> frozenset[str]:
        """The web origins of the redirect URIs (``scheme://host[:port]``)."""
        return frozenset(origin_of(uri) for uri in self.redirect_uris)

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


def client_of(row: Any, keyring: Keyring) -> Client:
    """The client of a row of the clients table."""
    return Client(
        row.id,
        row.name,
        tuple(json.loads(row.redirect_uris)),
        row.sector,
        row.secret_hash is None,
        row.secret_hash,
        keyring,
        row.revoked_at is not None,
        tuple(json.loads(row.post_logout_redirect_uris or "[]")),
        row.sector_identifier_uri,
        row.created_at,
        bool(row.id_token_on_refresh),
    )


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
        self,
        name: str,
        redirect_uris: list[str],
        *,
        public: bool = True,
        sector: str | None = None,
        post_logout_redirect_uris: Sequence[str] = (),
        sector_identifier_uri: str | None = None,
        id_token_on_refresh: bool = False,
        fetch: Callable[[str], object] | None = None,
    ) -> IssuedClient:
        """
        Register a client. ``fetch`` reads a ``sector_identifier_uri`` (default: an HTTPS GET
        with a 5-second timeout); ``id_token_on_refresh`` asks for a new ID token with every
        refresh of an ``openid`` grant (default: only the first grant of a sign-in carries one).

        Raises:
            InputError: no or malformed redirect URIs (https, or http on loopback; no
                fragments), redirect hosts that differ without a sector, or a
                ``sector_identifier_uri`` that cannot be read or does not list every
                redirect URI.
        """
        if not name or len(name) > 120:
            raise InputError("a client name has 1 to 120 characters", field="name")
        if not redirect_uris:
            raise InputError("register at least one redirect URI", field="redirect_uris")
        hosts = {_check_redirect(u, "redirect_uris") for u in redirect_uris}
        for uri in post_logout_redirect_uris:
            _check_redirect(uri, "post_logout_redirect_uris")
        if sector_identifier_uri is not None:
            if sector is not None:
                raise InputError(
                    "give a sector or a sector_identifier_uri, not both", field="sector"
                )
            sector = _sector_from_uri(
                sector_identifier_uri, list(redirect_uris), fetch or _fetch_json
            )
        if sector is None:
            if len(hosts) != 1:
                raise InputError(
                    "redirect URIs on several hosts need a sector or a sector_identifier_uri "
                    "(OpenID Connect Core 8.1)",
                    field="sector",
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
                    post_logout_redirect_uris=json.dumps(list(post_logout_redirect_uris)),
                    sector_identifier_uri=sector_identifier_uri,
                    id_token_on_refresh=id_token_on_refresh,
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
        return client_of(row, self.keyring)

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

    def origins(self) -> frozenset[str]:
        """The web origins of every live client's redirect URIs (where CORS is allowed)."""
        with self._engine_of().connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(oauth_clients.c.redirect_uris).where(oauth_clients.c.revoked_at.is_(None))
            ).scalars()
            return frozenset(origin_of(uri) for listed in rows for uri in json.loads(listed))

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


def origin_of(uri: str) -> str:
    """The web origin of an absolute URL (``scheme://host[:port]``, default ports omitted)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


def _check_redirect(uri: str, field: str) -> str:
    """Check a redirect URI; returns its host (the default sector: no port, OIDC Core 8.1)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(f"{uri!r} is not an absolute URL", field=field) from None
    if parts.fragment or "#" in uri or not parts.hostname:
        raise InputError(f"{uri!r} must be absolute and have no fragment", field=field)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
    ):
        raise InputError(
            f"{uri!r} must use https (http only on 127.0.0.1, [::1] or localhost)", field=field
        )
    return parts.hostname


def _fetch_json(uri: str) -> object:
    response = httpx.get(uri, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()


def _sector_from_uri(uri: str, redirect_uris: list[str], fetch: Callable[[str], object]) -> str:
    """The sector of a ``sector_identifier_uri``: its host, once the JSON array it serves is
    seen to list every redirect URI."""
    host = _check_redirect(uri, "sector_identifier_uri")
    try:
        listed = fetch(uri)
    except Exception as exc:  # network, HTTP status or JSON: all mean "cannot be read"
        raise InputError(
            f"the sector_identifier_uri could not be read ({type(exc).__name__}); it must "
            "answer a JSON array of redirect URIs",
            field="sector_identifier_uri",
        ) from None
    if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
        raise InputError(
            "the sector_identifier_uri must answer a JSON array of redirect URIs",
            field="sector_identifier_uri",
        )
    missing = [u for u in redirect_uris if u not in listed]
    if missing:
        raise InputError(
            f"the sector_identifier_uri does not list {missing[0]!r}; add every redirect URI "
            "to the array it serves",
            field="sector_identifier_uri",
        )
    return host
