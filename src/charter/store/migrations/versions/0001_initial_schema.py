"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 12:16:21.427883
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_keys",
        sa.Column(
            "id",
            sa.String(length=24),
            nullable=False,
            comment="Public key id, the first part of the key.",
        ),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column(
            "secret_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the secret part.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        comment="Service credentials (control database).",
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column(
            "actor",
            sa.String(length=80),
            nullable=False,
            comment="service:<id>, subject, admin, job:<name>.",
        ),
        sa.Column(
            "action",
            sa.String(length=40),
            nullable=False,
            comment="collect, refuse, use, export, erase, switch, admin, purge.",
        ),
        sa.Column(
            "subject_ref",
            sa.String(length=64),
            nullable=True,
            comment="Keyed hash of the subject id, never the id.",
        ),
        sa.Column(
            "detail", sa.Text(), nullable=False, comment="Canonical JSON without personal values."
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        comment="Tamper-evident journal: each entry's hash covers the previous entry's hash.",
    )
    op.create_table(
        "jobs",
        sa.Column(
            "id", sa.String(length=64), nullable=False, comment="e.g. purge, rotate:<version>."
        ),
        sa.Column("state", sa.String(length=16), nullable=False, comment="running | done."),
        sa.Column("cursor", sa.Text(), nullable=True, comment="Where a resumable job got to."),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        comment="State of resumable jobs (purge, key rotation).",
    )
    op.create_table(
        "subject_directory",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_directory")),
        comment="Which region holds a subject (control database); no personal data.",
    )
    op.create_table(
        "subjects",
        sa.Column(
            "id",
            sa.String(length=40),
            nullable=False,
            comment="Random subject id (not personal by itself).",
        ),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="account | app_instance | advertising_id.",
        ),
        sa.Column(
            "market",
            sa.String(length=2),
            nullable=False,
            comment="ISO 3166-1 alpha-2 market; decides the region.",
        ),
        sa.Column(
            "status", sa.String(length=12), nullable=False, comment="active | reset | erased."
        ),
        sa.Column(
            "created_at", sa.BigInteger(), nullable=False, comment="Microseconds since epoch."
        ),
        sa.Column(
            "updated_at", sa.BigInteger(), nullable=False, comment="Microseconds since epoch."
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        comment="Data subjects of this region: accounts and pseudonymous identifiers.",
    )
    op.create_table(
        "user_tokens",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=False,
            comment="The subject the token acts for.",
        ),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_tokens")),
        comment="Interim user tokens (control database); the account service replaces them.",
    )
    op.create_table(
        "data_keys",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "wrapped",
            sa.LargeBinary(),
            nullable=False,
            comment="The subject's AES-256 data key wrapped by a KEK.",
        ),
        sa.Column(
            "kek_version",
            sa.Integer(),
            nullable=False,
            comment="Which KEK version wrapped it (for rewrap jobs).",
        ),
        sa.Column(
            "encryptions",
            sa.BigInteger(),
            nullable=False,
            comment="Encryptions made with this key.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_data_keys_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_data_keys")),
        comment="Per-subject data keys; deleting a row crypto-shreds the subject's encrypted data.",
    )
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.create_index("ix_data_keys_kek_version", ["kek_version"], unique=False)

    op.create_table(
        "records",
        sa.Column(
            "id",
            sa.String(length=32),
            nullable=False,
            comment="Random record id; bound into the ciphertext.",
        ),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("data_type", sa.String(length=64), nullable=False),
        sa.Column("qualifier", sa.String(length=24), nullable=False),
        sa.Column(
            "purposes",
            sa.Integer(),
            nullable=False,
            comment="Bit set of the purposes the row declares.",
        ),
        sa.Column(
            "protection",
            sa.String(length=20),
            nullable=False,
            comment="plain | field_encryption | keyed_hash | password_hash.",
        ),
        sa.Column(
            "value",
            sa.LargeBinary(),
            nullable=True,
            comment="PERSONAL: the value, protected as `protection` says.",
        ),
        sa.Column(
            "blob",
            sa.String(length=80),
            nullable=True,
            comment="Name of an encrypted blob file in the region's blob folder.",
        ),
        sa.Column(
            "source",
            sa.String(length=120),
            nullable=True,
            comment="Device id or function that produced it (no personal data).",
        ),
        sa.Column("collected_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "expires_at",
            sa.BigInteger(),
            nullable=True,
            comment="Null: kept until the subject deletes it.",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_records_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        comment="Personal data records, one value each, written only by the gate.",
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index("ix_records_expires_at", ["expires_at"], unique=False)
        batch_op.create_index(
            "ix_records_subject_service", ["subject_id", "service", "data_type"], unique=False
        )

    op.create_table(
        "switch_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column(
            "actor",
            sa.String(length=80),
            nullable=False,
            comment="Who changed it: subject, service:<id>, admin.",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_switch_history_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_switch_history")),
        comment="Every switch change, in order (consent records and their withdrawal).",
    )
    with op.batch_alter_table("switch_history", schema=None) as batch_op:
        batch_op.create_index("ix_switch_history_subject", ["subject_id", "id"], unique=False)

    op.create_table(
        "switches",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "key",
            sa.String(length=120),
            nullable=False,
            comment="e.g. cloud.authorization, system.personalized_ads.",
        ),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "source",
            sa.String(length=40),
            nullable=False,
            comment="user | device | gpc | admin | first_run | withdrawal.",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_switches_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "key", name=op.f("pk_switches")),
        comment="Current value of every switch a subject has set; unset switches take catalog defaults.",
    )


def downgrade() -> None:

    op.drop_table("switches")
    with op.batch_alter_table("switch_history", schema=None) as batch_op:
        batch_op.drop_index("ix_switch_history_subject")

    op.drop_table("switch_history")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_subject_service")
        batch_op.drop_index("ix_records_expires_at")

    op.drop_table("records")
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_data_keys_kek_version")

    op.drop_table("data_keys")
    op.drop_table("user_tokens")
    op.drop_table("subjects")
    op.drop_table("subject_directory")
    op.drop_table("jobs")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
