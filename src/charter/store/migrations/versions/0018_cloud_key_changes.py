"""Cloud: key changes under advanced protection (the recovery key's public key, earlier
category keys sealed under the current one, and the category's state: on, rotation due,
being turned off), and shared links of protected photos (the copy sealed on the device)

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-04 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0014"
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


def downgrade() -> None:
    with op.batch_alter_table("cloud_links") as batch:
        batch.drop_column("record_id")
    with op.batch_alter_table("cloud_protection") as batch:
        batch.drop_column("state")
        batch.drop_column("previous")
        batch.drop_column("recovery_public")
