"""
Tables of the OAuth 2.0 / OpenID Connect provider (control database): registered clients,
authorization codes and the authorizations people gave. Codes and grants of an account go
when it is erased; clients hold no personal data. Migration ``0002_accounts`` creates them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text, false

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

clients = Table(
    "oauth_clients",
    metadata,
    Column("id", String(64), primary_key=True, comment="client_id."),
    Column("name", String(120), nullable=False),
    Column(
        "secret_hash", String(64), nullable=True, comment="Keyed hash; null for public clients."
    ),
    Column("redirect_uris", Text, nullable=False, comment="JSON list, matched exactly."),
    Column("sector", String(255), nullable=False, comment="Sector identifier for pairwise sub."),
    Column("created_at", BigInteger, nullable=False),
    Column(
        "post_logout_redirect_uris",
        Text,
        nullable=True,
        comment="JSON list for RP-initiated logout, matched exactly.",
    ),
    Column(
        "sector_identifier_uri",
        Text,
        nullable=True,
        comment="OIDC Core 8.1 sector_identifier_uri, when the client named one.",
    ),
    Column("revoked_at", BigInteger, nullable=True),
    Column(
        "id_token_on_refresh",
        Boolean,
        nullable=False,
        server_default=false(),
        comment="Whether a refresh of an openid grant returns a new ID token (OIDC Core 12.2).",
    ),
    comment="Registered OAuth 2.0 / OpenID Connect clients.",
)


codes = Table(
    "oauth_codes",
    metadata,
    Column("hash", String(64), primary_key=True, comment="Keyed hash of the authorization code."),
    Column("client_id", String(64), nullable=False),
    Column("subject_id", String(40), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", String(200), nullable=False),
    Column("nonce", String(255), nullable=True),
    Column("challenge", String(128), nullable=False, comment="PKCE S256 code challenge."),
    Column("auth_time", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Column("session_id", String(40), nullable=True, comment="Token family issued from it."),
    Index("ix_oauth_codes_subject", "subject_id"),
    comment="One-time authorization codes.",
)


grants = Table(
    "oauth_grants",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("client_id", String(64), primary_key=True),
    Column("scope", String(200), nullable=False),
    Column("granted_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    comment="Authorizations a person gave to clients (Accounts & Permission).",
)


register_table(
    clients,
    neither=(
        "id",
        "name",
        "secret_hash",
        "redirect_uris",
        "sector",
        "created_at",
        "revoked_at",
        "post_logout_redirect_uris",
        "sector_identifier_uri",
        "id_token_on_refresh",
    ),
    distribution="reference",  # registered clients: few, read on every authorization
)
register_table(
    codes,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "hash", "client_id", "redirect_uri", "scope", "nonce", "challenge", "auth_time",
        "created_at", "expires_at", "used_at", "session_id",
    ),
    erase=Erase.DELETE,
    distribution="key",  # the client redeems the code by its hash alone
    key_column="hash",
)  # fmt: skip
register_table(
    grants,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("client_id", "scope", "granted_at", "revoked_at"),
    erase=Erase.DELETE,
)
