"""Cloud: key changes under advanced protection (the recovery key's public key, earlier
category keys sealed under the current one, and the category's state: on, rotation due,
being turned off), and shared links of protected photos (the copy sealed on the device), and web sessions a device
approved (cloud_web_unlocks)

Revision ID: 0018
Revises: 0021
Create Date: 2026-12-04 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cloud_protection") as batch:
        batch.add_column(
            sa.Column(
                "recovery_public",
                sa.String(length=64),
                nullable=True,
                comment="The recovery key's X25519 public key, hex (never its private key).",
            )
        )
        batch.add_column(
            sa.Column(
                "previous",
                sa.LargeBinary(),
                nullable=True,
                comment="Earlier keys of the category sealed under its current key (CK 01).",
            )
        )
        batch.add_column(
            sa.Column(
                "state",
                sa.String(length=8),
                nullable=False,
                server_default="on",
                comment="on | rotate (a device was removed) | leaving (being turned off).",
            )
        )
    with op.batch_alter_table("cloud_links") as batch:
        batch.add_column(
            sa.Column(
                "record_id",
                sa.String(length=40),
                nullable=True,
                comment="Advanced protection: gate record of the copy sealed on the device.",
            )
        )
    op.create_table(
        "cloud_web_unlocks",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "id", sa.String(length=40), nullable=False, comment="Unlock request id (wu_...)."
        ),
        sa.Column(
            "session_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the signed-in session the browser asked from.",
        ),
        sa.Column(
            "public_key",
            sa.String(length=64),
            nullable=False,
            comment="The browser's X25519 key, hex.",
        ),
        sa.Column(
            "wrapped",
            sa.LargeBinary(),
            nullable=True,
            comment="The category keys wrapped (HPKE) to the browser's key by an approved device.",
        ),
        sa.Column("approved_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_cloud_web_unlocks")),
        comment="Web sessions a device approved to open protected items in the browser.",
    )
    op.create_index(
        "ix_cloud_web_unlocks_expires", "cloud_web_unlocks", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_cloud_web_unlocks_expires", table_name="cloud_web_unlocks")
    op.drop_table("cloud_web_unlocks")
    with op.batch_alter_table("cloud_links") as batch:
        batch.drop_column("record_id")
    with op.batch_alter_table("cloud_protection") as batch:
        batch.drop_column("state")
        batch.drop_column("previous")
        batch.drop_column("recovery_public")
