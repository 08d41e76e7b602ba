"""
Tables of the credentials service (control database): service API keys and interim user
tokens. Secrets are kept as keyed hashes only; a subject's user tokens go when its account is
erased. Migration ``0001_initial_schema`` creates them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, delete

from charter.store import verified
from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(24), primary_key=True, comment="Public key id, the first part of the key."),
    Column("service", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False, comment="Keyed hash of the secret part."),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    comment="Service credentials (control database).",
)


user_tokens = Table(
    "user_tokens",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("subject_id", String(40), nullable=False, comment="The subject the token acts for."),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_user_tokens_subject", "subject_id"),
    comment="Interim user tokens (control database); the account service replaces them.",
)


register_table(
    api_keys,
    neither=("id", "service", "secret_hash", "created_at", "revoked_at"),
    distribution="reference",  # a few service credentials, checked on every service call
)


def _erase_user_tokens(conn: Connection, subject_id: str) -> int:
    """An erased subject's tokens go, and no process keeps trusting them
    (:mod:`charter.store.verified`)."""
    verified.revoked_on_commit(conn)
    deleted = conn.execute(delete(user_tokens).where(user_tokens.c.subject_id == subject_id))
    return deleted.rowcount or 0


register_table(
    user_tokens,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("id", "secret_hash", "created_at", "expires_at", "revoked_at"),
    erase=Erase.DELETE,
    on_erase=_erase_user_tokens,
    distribution="key",  # looked up by the token's public id before its subject is known
    key_column="id",
)
