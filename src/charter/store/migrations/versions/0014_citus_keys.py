"""Citus-ready keys: subject-scoped tables keyed by ``(subject_id, id)``, the records table
clustered by subject (``WITHOUT ROWID`` on SQLite, two B-trees instead of four), an index on
the subject column of every table that has one, and no unique constraint without the
distribution column (``docs/scale.md``)

Revision ID: 0014
Revises: 0017
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0017"
branch_labels = None
depends_on = None

SUBJECT_KEYED = (
    "switch_history",
    "rights_consents",
    "acct_devices",
    "acct_sessions",
    "acct_secrets",
)
"""Tables whose id-only primary key becomes (subject_id, id); existing ids stay unique."""

NEW_INDEXES = (
    ("ix_oauth_codes_subject", "oauth_codes", ["subject_id"]),
    ("ix_user_tokens_subject", "user_tokens", ["subject_id"]),
    ("ix_rights_exports_subject", "rights_exports", ["subject_id"]),
    ("ix_rights_jobs_subject", "rights_jobs", ["subject_id"]),
    ("ix_cloud_links_token", "cloud_links", ["token_hash"]),
    ("ix_acct_sessions_id", "acct_sessions", ["id"]),
)

_EXPIRING = "expires_at IS NOT NULL"


def _rekey(table: str, columns: list[str], sqlite: bool) -> None:
    with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint(f"pk_{table}", type_="primary")
        batch.create_primary_key(f"pk_{table}", columns)


def _records(sqlite: bool, *, clustered: bool) -> None:
    """Rebuild ``records`` keyed by (subject_id, id) (or back by id)."""
    key = ["subject_id", "id"] if clustered else ["id"]
    op.drop_index("ix_records_expires_at", table_name="records")
    if clustered:
        op.drop_index("ix_records_subject_service", table_name="records")
    if sqlite:
        # a WITHOUT ROWID table cannot be altered into or out of: build the new one, copy, swap
        columns: list[sa.Column[object]] = [
            sa.Column("subject_id", sa.String(40), sa.ForeignKey("subjects.id", ondelete="CASCADE", name="fk_records_subject_id_subjects"), nullable=False),
            sa.Column("id", sa.String(32), nullable=False, comment="Random record id; bound into the ciphertext."),
            sa.Column("service", sa.String(64), nullable=False),
            sa.Column("data_type", sa.String(64), nullable=False),
            sa.Column("qualifier", sa.String(24), nullable=False),
            sa.Column("purposes", sa.Integer(), nullable=False, comment="Bit set of the purposes the row declares."),
            sa.Column("protection", sa.String(20), nullable=False, comment="plain | field_encryption | keyed_hash | password_hash."),
            sa.Column("value", sa.LargeBinary(), nullable=True, comment="PERSONAL: the value, protected as `protection` says."),
            sa.Column("blob", sa.String(80), nullable=True, comment="Name of an encrypted blob file in the region's blob folder."),
            sa.Column("source", sa.String(120), nullable=True, comment="Device id or function that produced it (no personal data)."),
            sa.Column("collected_at", sa.BigInteger(), nullable=False),
            sa.Column("expires_at", sa.BigInteger(), nullable=True, comment="Null: kept until the subject deletes it."),
        ]  # fmt: skip
        op.create_table(
            "records_rekeyed",
            *columns,
            sa.PrimaryKeyConstraint(*key, name="pk_records"),
            comment="Personal data records, one value each, written only by the gate.",
            sqlite_with_rowid=not clustered,
        )
        names = ", ".join(c.name for c in columns)
        op.execute(f"INSERT INTO records_rekeyed ({names}) SELECT {names} FROM records")  # noqa: S608 - fixed column names
        op.drop_table("records")
        op.rename_table("records_rekeyed", "records")
    else:
        op.drop_constraint("pk_records", "records", type_="primary")
        op.create_primary_key("pk_records", "records", key)
    if clustered:
        op.create_index(
            "ix_records_expires_at",
            "records",
            ["expires_at"],
            sqlite_where=sa.text(_EXPIRING),
            postgresql_where=sa.text(_EXPIRING),
        )
    else:
        op.create_index("ix_records_expires_at", "records", ["expires_at"])
        op.create_index(
            "ix_records_subject_service", "records", ["subject_id", "service", "data_type"]
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _records(sqlite, clustered=True)
    op.drop_index("ix_switch_history_subject", table_name="switch_history")
    for table in SUBJECT_KEYED:
        _rekey(table, ["subject_id", "id"], sqlite)
    with op.batch_alter_table("cloud_links") as batch:
        batch.drop_constraint("uq_cloud_links_token_hash", type_="unique")
    for name, table, columns in NEW_INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table, _columns in NEW_INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("cloud_links") as batch:
        batch.create_unique_constraint("uq_cloud_links_token_hash", ["token_hash"])
    for table in SUBJECT_KEYED:
        _rekey(table, ["id"], sqlite)
    op.create_index("ix_switch_history_subject", "switch_history", ["subject_id", "id"])
    _records(sqlite, clustered=False)
