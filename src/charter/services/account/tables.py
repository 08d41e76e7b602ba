"""
Tables of the account and OAuth services (control database; SQLAlchemy Core).

They hold account *state*, never personal values: random ids, keyed hashes, counters,
timestamps and encrypted security credentials. Every personal value of an account (phone,
email, country, profile, device model, hashed device id, password hash) is a gate record of
service ``account`` in the account's region.

The tables live on :data:`charter.store.schema.metadata`, so the migrations and the models
agree; migration ``0002_accounts`` creates them. Columns that are keyed hashes of personal
values (blind indexes) are registered with ``Erase.DELETE`` (:mod:`charter.store.registry`):
erasing an account deletes its rows from every one of them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
)

from charter.store import verified
from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

accounts = Table(
    "acct_accounts",
    metadata,
    Column("subject_id", String(40), primary_key=True, comment="The account's subject id."),
    Column("region", String(64), nullable=False, comment="Region holding the account's records."),
    Column("status", String(12), nullable=False, comment="active | frozen | blocked | erased."),
    Column("two_step", Boolean, nullable=False, comment="2-step verification switched on."),
    Column("failures", Integer, nullable=False, comment="Consecutive failed sign-ins."),
    Column(
        "locked_at", BigInteger, nullable=True, comment="Set at the 100th failure; unlock by reset."
    ),
    Column("password_changed_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False, comment="Microseconds since epoch."),
    Column("updated_at", BigInteger, nullable=False),
    comment="Account state (no personal values).",
)

identifiers = Table(
    "acct_identifiers",
    metadata,
    Column(
        "lookup", String(64), primary_key=True, comment="Keyed hash of a normalised email/phone."
    ),
    Column("subject_id", String(40), nullable=False),
    Column("kind", String(8), nullable=False, comment="email | phone."),
    Column("role", String(10), nullable=False, comment="login | recovery."),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_acct_identifiers_subject", "subject_id"),
    comment="Blind index from a sign-in identifier to its account (HMAC, never the value).",
)

devices = Table(
    "acct_devices",
    metadata,
    Column("id", String(40), nullable=False, comment="Random device id (d_...)."),
    Column("subject_id", String(40), nullable=False),
    PrimaryKeyConstraint("subject_id", "id"),
    Column("device_key", String(64), nullable=False, comment="Keyed hash of the hashed device id."),
    Column("trusted", Boolean, nullable=False, comment="Confirmed by a step-up."),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("removed_at", BigInteger, nullable=True),
    Index("ix_acct_devices_subject", "subject_id", "device_key"),
    comment="Devices an account signed in from (model and device id are gate records).",
)

networks = Table(
    "acct_networks",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("net_key", String(64), primary_key=True, comment="Keyed hash of the IP network prefix."),
    Column("first_seen_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    comment="Usual sign-in locations, as keyed hashes of /24 (IPv4) or /48 (IPv6) prefixes.",
)

sessions = Table(
    "acct_sessions",
    metadata,
    Column("id", String(40), nullable=False, comment="Random session (token family) id."),
    Column("subject_id", String(40), nullable=False),
    PrimaryKeyConstraint("subject_id", "id"),
    Column("kind", String(8), nullable=False, comment="account | oauth."),
    Column("device_id", String(40), nullable=True),
    Column("client_id", String(64), nullable=True, comment="OAuth client of an oauth family."),
    Column("scope", String(200), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, comment="Absolute limit."),
    Column("idle_micros", BigInteger, nullable=False, comment="Idle limit."),
    Column("auth_time", BigInteger, nullable=False, comment="Last primary or step-up auth."),
    Column("revoked_at", BigInteger, nullable=True),
    Column("revoked_why", String(24), nullable=True),
    Index("ix_acct_sessions_subject", "subject_id", "kind"),
    comment="Sessions and OAuth grant families; revoking one kills all its tokens.",
)

tokens = Table(
    "acct_tokens",
    metadata,
    Column("hash", String(64), primary_key=True, comment="Keyed hash of the token."),
    Column(
        "subject_id",
        String(40),
        nullable=True,
        comment="The session's subject (set on every row since 0019): the next query's route.",
    ),
    Column("session_id", String(40), nullable=False),
    Column("kind", String(8), nullable=False, comment="access | refresh."),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True, comment="Refresh tokens: when rotated."),
    Index("ix_acct_tokens_session", "session_id"),
    Index("ix_acct_tokens_subject", "subject_id"),
    comment="Access and refresh tokens, stored only as keyed hashes.",
)

secrets_ = Table(
    "acct_secrets",
    metadata,
    Column("id", String(40), nullable=False),
    Column("subject_id", String(40), nullable=False),
    PrimaryKeyConstraint("subject_id", "id"),
    Column("kind", String(10), nullable=False, comment="totp | recovery."),
    Column("secret", LargeBinary, nullable=False, comment="TOTP: AES-GCM seed; recovery: HMAC."),
    Column("last_step", BigInteger, nullable=False, comment="TOTP: last accepted time step."),
    Column("created_at", BigInteger, nullable=False),
    Column("confirmed_at", BigInteger, nullable=True),
    Column("used_at", BigInteger, nullable=True, comment="Recovery codes: when spent."),
    Index("ix_acct_secrets_subject", "subject_id", "kind"),
    comment="Second-factor credentials (security secrets, encrypted or hashed).",
)

challenges = Table(
    "acct_challenges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subject_id", String(40), nullable=True, comment="Null for an unknown identifier."),
    Column("purpose", String(16), nullable=False, comment="login | verify | reset | unlock."),
    Column("code_hash", String(64), nullable=True, comment="Keyed hash of the one-time code."),
    Column("attempts", Integer, nullable=False),
    Column("state", String(10), nullable=False, comment="pending | approved | denied | done."),
    Column("context", Text, nullable=False, comment="JSON of random ids (device, session)."),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_acct_challenges_subject", "subject_id", "state"),
    comment="Step-up, verification, reset and approval challenges.",
)

throttles = Table(
    "acct_throttles",
    metadata,
    Column("key", String(64), primary_key=True, comment="Keyed hash of account:<id> or ip:<addr>."),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", BigInteger, nullable=False),
    Column("next_allowed_at", BigInteger, nullable=False),
    comment="Failure counters for exponential back-off, per identifier and per IP.",
)


browser_sessions = Table(
    "acct_browser_sessions",
    metadata,
    Column("id", String(64), primary_key=True, comment="Keyed hash of the cookie's session id."),
    Column("subject_id", String(40), nullable=True, comment="Signed-in account, else null."),
    Column(
        "account_session", String(40), nullable=True, comment="acct_sessions.id when signed in."
    ),
    Column("data", LargeBinary, nullable=False, comment="AES-GCM under a key from the cookie."),
    Column("created_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_acct_browser_sessions_subject", "subject_id"),
    Index("ix_acct_browser_sessions_expires", "expires_at"),
    comment="Browser sessions shared by the Privacy Center and the OpenID provider.",
)


def _erase_tokens(conn: Connection, subject_id: str) -> int:
    """A subject's tokens go, and no process keeps trusting them (charter.store.verified)."""
    verified.revoked_on_commit(conn)
    return conn.execute(delete(tokens).where(tokens.c.subject_id == subject_id)).rowcount or 0


_WHEN = ("created_at", "updated_at")
register_table(
    accounts,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "region",
        "status",
        "two_step",
        "failures",
        "locked_at",
        "password_changed_at",
        *_WHEN,
    ),
    erase=Erase.DELETE,
)
register_table(
    identifiers,
    subject_column="subject_id",
    personal={"lookup": "keyed_hash"},
    reference=("subject_id",),
    neither=("kind", "role", "created_at"),
    erase=Erase.DELETE,
    distribution="key",  # sign-in: an address's keyed hash finds its account
    key_column="lookup",
)
register_table(
    devices,
    subject_column="subject_id",
    personal={"device_key": "keyed_hash"},
    reference=("subject_id",),
    neither=("id", "trusted", "created_at", "last_seen_at", "removed_at"),
    erase=Erase.DELETE,
)
register_table(
    networks,
    subject_column="subject_id",
    personal={"net_key": "keyed_hash"},
    reference=("subject_id",),
    neither=("first_seen_at", "last_seen_at"),
    erase=Erase.DELETE,
)
register_table(
    sessions,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id", "kind", "device_id", "client_id", "scope", "created_at", "last_used_at",
        "expires_at", "idle_micros", "auth_time", "revoked_at", "revoked_why",
    ),
    erase=Erase.DELETE,
)  # fmt: skip
register_table(
    tokens,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("hash", "session_id", "kind", "issued_at", "expires_at", "used_at"),
    erase=Erase.DELETE,
    on_erase=_erase_tokens,
    distribution="key",  # every authenticated call looks its token up by hash
    key_column="hash",
)
register_table(
    secrets_,
    subject_column="subject_id",
    personal={"secret": "field_encryption or keyed_hash (TOTP seed, recovery code)"},
    reference=("subject_id",),
    neither=("id", "kind", "last_step", "created_at", "confirmed_at", "used_at"),
    erase=Erase.DELETE,
)
register_table(
    challenges,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id",
        "purpose",
        "code_hash",
        "attempts",
        "state",
        "context",
        "created_at",
        "expires_at",
    ),
    erase=Erase.DELETE,
    distribution="key",  # looked up by id, often before the account is known
    key_column="id",
)
register_table(
    throttles,
    personal={"key": "keyed_hash (account id or IP address)"},
    neither=("failures", "last_failure_at", "next_allowed_at"),
    distribution="key",  # back-off counters, looked up by their keyed hash
    key_column="key",
)
register_table(
    browser_sessions,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("id", "account_session", "data", "created_at", "seen_at", "expires_at"),
    erase=Erase.DELETE,
    distribution="key",  # looked up by the cookie's hash, signed in or not
    key_column="id",
)
