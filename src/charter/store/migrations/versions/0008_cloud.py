"""Cloud sync state: items (versions, change numbers, trash) and per-account counters

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_items",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False, comment="Item id (ci_...)."),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column(
            "version", sa.Integer(), nullable=False, comment="1 on creation, +1 on every change."
        ),
        sa.Column(
            "seq",
            sa.BigInteger(),
            nullable=False,
            comment="The account's change number of the last change.",
        ),
        sa.Column(
            "record_id",
            sa.String(length=40),
            nullable=True,
            comment="Gate record of the content; null once gone.",
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False, comment="live | trashed | gone."),
        sa.Column("trashed_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "purge_at", sa.BigInteger(), nullable=True, comment="When a trashed item is destroyed."
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_cloud_items")),
        comment="Synced items: versions, change numbers and trash state (content is in the gate).",
    )
    op.create_index("ix_cloud_items_changes", "cloud_items", ["subject_id", "seq"], unique=False)
    op.create_index("ix_cloud_items_purge", "cloud_items", ["purge_at"], unique=False)
    op.create_table(
        "cloud_accounts",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "seq", sa.BigInteger(), nullable=False, comment="The account's last change number."
        ),
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column(
            "used_bytes", sa.BigInteger(), nullable=False, comment="Live and trashed content."
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_cloud_accounts")),
        comment="Per account: the change counter, the plan and the storage used.",
    )


def downgrade() -> None:
    op.drop_table("cloud_accounts")
    op.drop_index("ix_cloud_items_purge", table_name="cloud_items")
    op.drop_index("ix_cloud_items_changes", table_name="cloud_items")
    op.drop_table("cloud_items")
