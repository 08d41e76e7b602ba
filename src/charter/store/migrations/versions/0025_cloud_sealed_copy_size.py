"""Cloud: the size of the copy sealed on the device behind a shared link of a protected
photo (``cloud_links.size``), so that it counts against the person's quota until the link
ends (links made before this revision count 0; their copies go when they expire, within 30
days); and, for categories protected before 0018 (no recovery public key), the key proof an
approved device seals under the category key so that the recovery key can still approve a
new device (``cloud_protection.key_proof``).

Revision ID: 0025
Revises: 0019
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cloud_links") as batch:
        batch.add_column(
            sa.Column(
                "size",
                sa.BigInteger(),
                nullable=False,
                server_default="0",
                comment="Bytes of the sealed copy (advanced protection), counted in the quota "
                "until the link ends; 0 for a standard link.",
            )
        )

    with op.batch_alter_table("cloud_protection") as batch:
        batch.add_column(
            sa.Column(
                "key_proof",
                sa.LargeBinary(),
                nullable=True,
                comment="Protected before 0018 (no recovery_public): the key proof sealed "
                "under the category key by an approved device (KP 01).",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cloud_protection") as batch:
        batch.drop_column("key_proof")
    with op.batch_alter_table("cloud_links") as batch:
        batch.drop_column("size")
