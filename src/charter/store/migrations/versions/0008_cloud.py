"""Cloud sync state: items (versions, change numbers, trash), per-account counters,
resumable uploads and shared photo links

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

    op.create_table(
        "cloud_uploads",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False, comment="Upload id (cu_...)."),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column(
            "item_id", sa.String(length=40), nullable=True, comment="The item it replaces, if any."
        ),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False, comment="Announced total size."),
        sa.Column(
            "sha256",
            sa.String(length=64),
            nullable=False,
            comment="Announced digest of the whole content.",
        ),
        sa.Column(
            "received", sa.BigInteger(), nullable=False, comment="Content bytes received so far."
        ),
        sa.Column(
            "stored", sa.BigInteger(), nullable=False, comment="Length of the encrypted part file."
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_cloud_uploads")),
        comment="Resumable uploads in progress (the chunks, encrypted, in cloud/uploads/).",
    )
    op.create_index("ix_cloud_uploads_expires", "cloud_uploads", ["expires_at"], unique=False)

    op.create_table(
        "cloud_links",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False, comment="Link id (cl_...)."),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the link's token.",
        ),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_cloud_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cloud_links_token_hash")),
        comment="Shared photo links (the photo is served stripped of location and metadata).",
    )

    op.create_table(
        "cloud_categories",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("sync", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "category", name=op.f("pk_cloud_categories")),
        comment="Per account and category: sync on or off (on unless set).",
    )


def downgrade() -> None:
    op.drop_table("cloud_categories")
    op.drop_table("cloud_links")
    op.drop_index("ix_cloud_uploads_expires", table_name="cloud_uploads")
    op.drop_table("cloud_uploads")
    op.drop_table("cloud_accounts")
    op.drop_index("ix_cloud_items_purge", table_name="cloud_items")
    op.drop_index("ix_cloud_items_changes", table_name="cloud_items")
    op.drop_table("cloud_items")
