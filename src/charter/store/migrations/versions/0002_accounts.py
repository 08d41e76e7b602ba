"""accounts and OAuth: account state, sessions, second factors, throttles, OAuth clients

Revision ID: 0002
Revises: 0001

Only non-personal state: random ids, keyed hashes, counters, timestamps and encrypted
security credentials. Personal values of accounts are gate records (table ``records``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the account and OAuth tables."""
    op.create_table(
        "acct_accounts",
        sa.Column(
            "subject_id", sa.String(length=40), nullable=False, comment="The account's subject id."
        ),
        sa.Column(
            "region",
            sa.String(length=64),
            nullable=False,
            comment="Region holding the account's records.",
        ),
        sa.Column(
            "status",
            sa.String(length=12),
            nullable=False,
            comment="active | frozen | blocked | erased.",
        ),
        sa.Column(
            "two_step", sa.Boolean(), nullable=False, comment="2-step verification switched on."
        ),
        sa.Column("failures", sa.Integer(), nullable=False, comment="Consecutive failed sign-ins."),
        sa.Column(
            "locked_at",
            sa.BigInteger(),
            nullable=True,
            comment="Set at the 100th failure; unlock by reset.",
        ),
        sa.Column("password_changed_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.BigInteger(), nullable=False, comment="Microseconds since epoch."
        ),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_acct_accounts")),
        comment="Account state (no personal values).",
    )
    op.create_table(
        "acct_challenges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=True,
            comment="Null for an unknown identifier.",
        ),
        sa.Column(
            "purpose",
            sa.String(length=16),
            nullable=False,
            comment="login | verify | reset | unlock.",
        ),
        sa.Column(
            "code_hash",
            sa.String(length=64),
            nullable=True,
            comment="Keyed hash of the one-time code.",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.String(length=10),
            nullable=False,
            comment="pending | approved | denied | done.",
        ),
        sa.Column(
            "context", sa.Text(), nullable=False, comment="JSON of random ids (device, session)."
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_challenges")),
        comment="Step-up, verification, reset and approval challenges.",
    )
    with op.batch_alter_table("acct_challenges", schema=None) as batch_op:
        batch_op.create_index("ix_acct_challenges_subject", ["subject_id", "state"], unique=False)

    op.create_table(
        "acct_devices",
        sa.Column("id", sa.String(length=40), nullable=False, comment="Random device id (d_...)."),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "device_key",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the hashed device id.",
        ),
        sa.Column("trusted", sa.Boolean(), nullable=False, comment="Confirmed by a step-up."),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("removed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_devices")),
        comment="Devices an account signed in from (model and device id are gate records).",
    )
    with op.batch_alter_table("acct_devices", schema=None) as batch_op:
        batch_op.create_index("ix_acct_devices_subject", ["subject_id", "device_key"], unique=False)

    op.create_table(
        "acct_identifiers",
        sa.Column(
            "lookup",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of a normalised email/phone.",
        ),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="email | phone."),
        sa.Column("role", sa.String(length=10), nullable=False, comment="login | recovery."),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lookup", name=op.f("pk_acct_identifiers")),
        comment="Blind index from a sign-in identifier to its account (HMAC, never the value).",
    )
    with op.batch_alter_table("acct_identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_acct_identifiers_subject", ["subject_id"], unique=False)

    op.create_table(
        "acct_networks",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "net_key",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the IP network prefix.",
        ),
        sa.Column("first_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "net_key", name=op.f("pk_acct_networks")),
        comment="Usual sign-in locations, as keyed hashes of /24 (IPv4) or /48 (IPv6) prefixes.",
    )
    op.create_table(
        "acct_secrets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False, comment="totp | recovery."),
        sa.Column(
            "secret",
            sa.LargeBinary(),
            nullable=False,
            comment="TOTP: AES-GCM seed; recovery: HMAC.",
        ),
        sa.Column(
            "last_step", sa.BigInteger(), nullable=False, comment="TOTP: last accepted time step."
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=True),
        sa.Column("used_at", sa.BigInteger(), nullable=True, comment="Recovery codes: when spent."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_secrets")),
        comment="Second-factor credentials (security secrets, encrypted or hashed).",
    )
    with op.batch_alter_table("acct_secrets", schema=None) as batch_op:
        batch_op.create_index("ix_acct_secrets_subject", ["subject_id", "kind"], unique=False)

    op.create_table(
        "acct_sessions",
        sa.Column(
            "id", sa.String(length=40), nullable=False, comment="Random session (token family) id."
        ),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="account | oauth."),
        sa.Column("device_id", sa.String(length=40), nullable=True),
        sa.Column(
            "client_id",
            sa.String(length=64),
            nullable=True,
            comment="OAuth client of an oauth family.",
        ),
        sa.Column("scope", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False, comment="Absolute limit."),
        sa.Column("idle_micros", sa.BigInteger(), nullable=False, comment="Idle limit."),
        sa.Column(
            "auth_time", sa.BigInteger(), nullable=False, comment="Last primary or step-up auth."
        ),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_why", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_sessions")),
        comment="Sessions and OAuth grant families; revoking one kills all its tokens.",
    )
    with op.batch_alter_table("acct_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_acct_sessions_subject", ["subject_id", "kind"], unique=False)

    op.create_table(
        "acct_throttles",
        sa.Column(
            "key",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of account:<id> or ip:<addr>.",
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.BigInteger(), nullable=False),
        sa.Column("next_allowed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_acct_throttles")),
        comment="Failure counters for exponential back-off, per identifier and per IP.",
    )
    op.create_table(
        "acct_tokens",
        sa.Column("hash", sa.String(length=64), nullable=False, comment="Keyed hash of the token."),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="access | refresh."),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "used_at", sa.BigInteger(), nullable=True, comment="Refresh tokens: when rotated."
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_acct_tokens")),
        comment="Access and refresh tokens, stored only as keyed hashes.",
    )
    with op.batch_alter_table("acct_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_acct_tokens_session", ["session_id"], unique=False)

    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.String(length=64), nullable=False, comment="client_id."),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "secret_hash",
            sa.String(length=64),
            nullable=True,
            comment="Keyed hash; null for public clients.",
        ),
        sa.Column(
            "redirect_uris", sa.Text(), nullable=False, comment="JSON list, matched exactly."
        ),
        sa.Column(
            "sector",
            sa.String(length=255),
            nullable=False,
            comment="Sector identifier for pairwise sub.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        comment="Registered OAuth 2.0 / OpenID Connect clients.",
    )
    op.create_table(
        "oauth_codes",
        sa.Column(
            "hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the authorization code.",
        ),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column(
            "challenge", sa.String(length=128), nullable=False, comment="PKCE S256 code challenge."
        ),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "session_id",
            sa.String(length=40),
            nullable=True,
            comment="Token family issued from it.",
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_oauth_codes")),
        comment="One-time authorization codes.",
    )
    op.create_table(
        "oauth_grants",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("granted_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "client_id", name=op.f("pk_oauth_grants")),
        comment="Authorizations a person gave to clients (Accounts & Permission).",
    )


def downgrade() -> None:
    """Drop the account and OAuth tables."""
    op.drop_table("oauth_grants")
    op.drop_table("oauth_codes")
    op.drop_table("oauth_clients")
    with op.batch_alter_table("acct_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_acct_tokens_session")

    op.drop_table("acct_tokens")
    op.drop_table("acct_throttles")
    with op.batch_alter_table("acct_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_acct_sessions_subject")

    op.drop_table("acct_sessions")
    with op.batch_alter_table("acct_secrets", schema=None) as batch_op:
        batch_op.drop_index("ix_acct_secrets_subject")

    op.drop_table("acct_secrets")
    op.drop_table("acct_networks")
    with op.batch_alter_table("acct_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_acct_identifiers_subject")

    op.drop_table("acct_identifiers")
    with op.batch_alter_table("acct_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_acct_devices_subject")

    op.drop_table("acct_devices")
    with op.batch_alter_table("acct_challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_acct_challenges_subject")

    op.drop_table("acct_challenges")
    op.drop_table("acct_accounts")
