"""
The gate's tables (SQLAlchemy Core). Every database Charter uses — the control database
and one database per region — has this same schema; Alembic migrations create it.

Times are integer microseconds since the Unix epoch (UTC): portable, compact and fast to
compare on SQLite and PostgreSQL alike. Each column says what it holds; columns that hold
personal data say how it is protected.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

subjects = Table(
    "subjects",
    metadata,
    Column(
        "id", String(40), primary_key=True, comment="Random subject id (not personal by itself)."
    ),
    Column("kind", String(20), nullable=False, comment="account | app_instance | advertising_id."),
    Column(
        "market",
        String(2),
        nullable=False,
        comment="ISO 3166-1 alpha-2 market; decides the region.",
    ),
    Column("status", String(12), nullable=False, comment="active | reset | erased."),
    Column("created_at", BigInteger, nullable=False, comment="Microseconds since epoch."),
    Column("updated_at", BigInteger, nullable=False, comment="Microseconds since epoch."),
    comment="Data subjects of this region: accounts and pseudonymous identifiers.",
)

data_keys = Table(
    "data_keys",
    metadata,
    Column(
        "subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "wrapped",
        LargeBinary,
        nullable=False,
        comment="The subject's AES-256 data key wrapped by a KEK.",
    ),
    Column(
        "kek_version",
        Integer,
        nullable=False,
        comment="Which KEK version wrapped it (for rewrap jobs).",
    ),
    Column(
        "encryptions",
        BigInteger,
        nullable=False,
        default=0,
        comment="Encryptions made with this key.",
    ),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_data_keys_kek_version", "kek_version"),
    comment="Per-subject data keys; deleting a row crypto-shreds the subject's encrypted data.",
)

switches = Table(
    "switches",
    metadata,
    Column(
        "subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "key",
        String(120),
        primary_key=True,
        comment="e.g. cloud.authorization, system.personalized_ads.",
    ),
    Column("value", Boolean, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column(
        "source",
        String(40),
        nullable=False,
        comment="user | device | gpc | admin | first_run | withdrawal.",
    ),
    comment="Current value of every switch a subject has set; unset switches take catalog defaults.",
)

switch_history = Table(
    "switch_history",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(120), nullable=False),
    Column("value", Boolean, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column("source", String(40), nullable=False),
    Column(
        "actor", String(80), nullable=False, comment="Who changed it: subject, service:<id>, admin."
    ),
    Index("ix_switch_history_subject", "subject_id", "id"),
    comment="Every switch change, in order (consent records and their withdrawal).",
)

records = Table(
    "records",
    metadata,
    Column(
        "id", String(32), primary_key=True, comment="Random record id; bound into the ciphertext."
    ),
    Column("subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column("service", String(64), nullable=False),
    Column("data_type", String(64), nullable=False),
    Column("qualifier", String(24), nullable=False),
    Column(
        "purposes", Integer, nullable=False, comment="Bit set of the purposes the row declares."
    ),
    Column(
        "protection",
        String(20),
        nullable=False,
        comment="plain | field_encryption | keyed_hash | password_hash.",
    ),
    Column(
        "value",
        LargeBinary,
        nullable=True,
        comment="PERSONAL: the value, protected as `protection` says.",
    ),
    Column(
        "blob",
        String(80),
        nullable=True,
        comment="Name of an encrypted blob file in the region's blob folder.",
    ),
    Column(
        "source",
        String(120),
        nullable=True,
        comment="Device id or function that produced it (no personal data).",
    ),
    Column("collected_at", BigInteger, nullable=False),
    Column(
        "expires_at", BigInteger, nullable=True, comment="Null: kept until the subject deletes it."
    ),
    Index("ix_records_subject_service", "subject_id", "service", "data_type"),
    Index("ix_records_expires_at", "expires_at"),
    comment="Personal data records, one value each, written only by the gate.",
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("at", BigInteger, nullable=False),
    Column(
        "actor", String(80), nullable=False, comment="service:<id>, subject, admin, job:<name>."
    ),
    Column(
        "action",
        String(40),
        nullable=False,
        comment="collect, refuse, use, export, erase, switch, admin, purge.",
    ),
    Column(
        "subject_ref",
        String(64),
        nullable=True,
        comment="Keyed hash of the subject id, never the id.",
    ),
    Column("detail", Text, nullable=False, comment="Canonical JSON without personal values."),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    comment="Tamper-evident journal: each entry's hash covers the previous entry's hash.",
)

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
    comment="Interim user tokens (control database); the account service replaces them.",
)

subject_directory = Table(
    "subject_directory",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("region", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    comment="Which region holds a subject (control database); no personal data.",
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True, comment="e.g. purge, rotate:<version>."),
    Column("state", String(16), nullable=False, comment="running | done."),
    Column("cursor", Text, nullable=True, comment="Where a resumable job got to."),
    Column("done", BigInteger, nullable=False, default=0),
    Column("started_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    comment="State of resumable jobs (purge, key rotation).",
)

PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "records": ("value", "blob"),
    "data_keys": ("wrapped",),
}
"""Columns that hold personal data or keys to it; a test fails on any unregistered one."""
