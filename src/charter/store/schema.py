"""
The gate's tables (SQLAlchemy Core). Every database Charter uses — the control database
and one database per region — has this same schema; Alembic migrations create it.

Times are integer microseconds since the Unix epoch (UTC): portable, compact and fast to
compare on SQLite and PostgreSQL alike. Each column says what it holds; columns that hold
personal data say how it is protected.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext

from charter.store.registry import FILE_NAME, Erase, metadata, register_table

__all__ = [
    "audit_log",
    "catalog_snapshots",
    "consents",
    "data_keys",
    "metadata",
    "records",
    "subject_directory",
    "subjects",
    "switch_history",
    "switches",
]

_SERIAL = BigInteger().with_variant(Integer, "sqlite")
"""An auto-increment key: BIGSERIAL on PostgreSQL, the rowid on SQLite."""


def _next_of_subject(table: str) -> Callable[[DefaultExecutionContext], int]:
    """
    A column default numbering a subject's rows 1, 2, 3 ... (the second column of a
    ``(subject_id, id)`` key, which SQLite cannot auto-increment): the subject's largest id
    plus one, read through the key's index inside the inserting transaction. One row per
    insert statement (rows of one subject in one multi-row insert would get the same number).
    """

    def next_id(context: DefaultExecutionContext) -> int:
        subject_id = context.get_current_parameters()["subject_id"]  # type: ignore[no-untyped-call]
        t = metadata.tables[table]
        found = context.connection.execute(
            select(func.max(t.c.id)).where(t.c.subject_id == subject_id)
        ).scalar()
        return int(found or 0) + 1

    return next_id


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
    Column("subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "id",
        _SERIAL,
        nullable=False,
        default=_next_of_subject("switch_history"),
        comment="The subject's changes numbered 1, 2, 3 ...",
    ),
    Column("key", String(120), nullable=False),
    Column("value", Boolean, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column("source", String(40), nullable=False),
    Column(
        "actor", String(80), nullable=False, comment="Who changed it: subject, service:<id>, admin."
    ),
    PrimaryKeyConstraint("subject_id", "id"),
    comment="Every switch change, in order (consent records and their withdrawal).",
)

records = Table(
    "records",
    metadata,
    Column("subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "id", String(32), nullable=False, comment="Random record id; bound into the ciphertext."
    ),
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
    PrimaryKeyConstraint("subject_id", "id"),
    Index(
        "ix_records_expires_at",
        "expires_at",
        sqlite_where=text("expires_at IS NOT NULL"),
        postgresql_where=text("expires_at IS NOT NULL"),
    ),
    comment="Personal data records, one value each, written only by the gate.",
    sqlite_with_rowid=False,
)
"""Clustered by subject: on SQLite a ``WITHOUT ROWID`` table whose key (subject, record) is
the table itself, so a record is written into two B-trees (the table and the retention index,
which holds only records that expire); a subject's reads, erasure and export walk one range of
the key. On PostgreSQL the same key is the table's only index besides retention's."""

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
    Index("ix_audit_log_subject", "subject_ref", "seq"),
    comment="Tamper-evident journal: each entry's hash covers the previous entry's hash.",
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


consents = Table(
    "rights_consents",
    metadata,
    Column("subject_id", String(40), ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "id",
        _SERIAL,
        nullable=False,
        default=_next_of_subject("rights_consents"),
        comment="The subject's consent records numbered 1, 2, 3 ...",
    ),
    Column("scope", String(64), nullable=False, comment="`general` or a service id."),
    Column("version", Integer, nullable=False, comment="Policy version consented to."),
    Column(
        "policy_hash",
        String(64),
        nullable=False,
        comment="SHA-256 of the policy text consented to.",
    ),
    Column(
        "catalog_digest",
        String(64),
        nullable=True,
        comment="Snapshot of the service's declarations consented to.",
    ),
    Column(
        "method",
        String(40),
        nullable=False,
        comment="privacy_center | device_first_run | api | staff.",
    ),
    Column("actor", String(80), nullable=False),
    Column("consented_at", BigInteger, nullable=False),
    Column("withdrawn_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("subject_id", "id"),
    Index("ix_rights_consents_subject", "subject_id", "scope", "id"),
    comment="Consent records as proof: who, which policy version (content hash), when, how (region database).",
)

catalog_snapshots = Table(
    "rights_catalog_snapshots",
    metadata,
    Column("digest", String(64), primary_key=True, comment="SHA-256 of the canonical JSON below."),
    Column("service", String(64), nullable=False),
    Column(
        "body",
        Text,
        nullable=False,
        comment="A service's declarations as canonical JSON (no personal data).",
    ),
    Column("created_at", BigInteger, nullable=False),
    comment="Service declarations people consented to, for material-change checks.",
)


# -- registration: how each column is classified and what account erasure does -----------

_GATE = "any"  # the gate's tables exist in every database (control and each region)
register_table(
    subjects,
    subject_column="id",
    personal={"market": "plain (the subject's country, which decides its region)"},
    reference=("id",),
    neither=("kind", "status", "created_at", "updated_at"),
    erase=Erase.OWNER,
    database=_GATE,
)
register_table(
    data_keys,
    subject_column="subject_id",
    personal={"wrapped": "data key wrapped by a KEK"},
    reference=("subject_id",),
    neither=("kek_version", "encryptions", "created_at"),
    erase=Erase.OWNER,
    database=_GATE,
)
register_table(
    switches,
    subject_column="subject_id",
    personal={"value": "plain (a person's choice)"},
    reference=("subject_id",),
    neither=("key", "changed_at", "source"),
    erase=Erase.OWNER,
    database=_GATE,
)
register_table(
    switch_history,
    subject_column="subject_id",
    personal={"value": "plain (a person's choice)"},
    reference=("subject_id",),
    neither=("id", "key", "changed_at", "source", "actor"),
    erase=Erase.OWNER,
    database=_GATE,
)
register_table(
    records,
    subject_column="subject_id",
    personal={
        "value": "as the inventory row declares (field encryption, keyed or password hash, plain)",
        "blob": FILE_NAME,  # the name of a blob file encrypted with the subject's data key
        "source": "plain (device installation id or function)",
    },
    reference=("subject_id", "id"),
    neither=(
        "service", "data_type", "qualifier", "purposes", "protection", "collected_at",
        "expires_at",
    ),
    erase=Erase.OWNER,
    database=_GATE,
)  # fmt: skip
register_table(
    audit_log,
    reference=("subject_ref",),
    neither=("seq", "at", "actor", "action", "detail", "prev_hash", "hash"),
    database=_GATE,
    distribution="local",  # one hash chain, appended in one global order under a lock
)
register_table(
    subject_directory,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("region", "kind", "created_at"),
    erase=Erase.OWNER,
    database=_GATE,
)
register_table(
    consents,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id", "scope", "version", "policy_hash", "catalog_digest", "method", "actor",
        "consented_at", "withdrawn_at",
    ),
    erase=Erase.OWNER,
    database=_GATE,
)  # fmt: skip
register_table(
    catalog_snapshots,
    neither=("digest", "service", "body", "created_at"),
    database=_GATE,
    distribution="reference",  # catalog-derived
)
