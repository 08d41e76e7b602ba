"""Cloud: advanced protection (protected categories, wrapped category keys) and each
device's record (public key, per-device sync settings)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_protection",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column(
            "key_id",
            sa.String(length=32),
            nullable=False,
            comment="Id of the category key (not the key).",
        ),
        sa.Column("format", sa.Integer(), nullable=False, comment="Envelope format version (1)."),
        sa.Column("enabled_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "category", name=op.f("pk_cloud_protection")),
        comment="Categories under advanced protection (end-to-end): the server holds only "
        "ciphertext it cannot open.",
    )
    op.create_table(
        "cloud_e2e_keys",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column(
            "recipient",
            sa.String(length=40),
            nullable=False,
            comment="A device id (dv_...) or 'recovery'.",
        ),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column(
            "wrapped",
            sa.LargeBinary(),
            nullable=False,
            comment="The category key sealed (HPKE) to the recipient's public key.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "subject_id", "category", "recipient", name=op.f("pk_cloud_e2e_keys")
        ),
        comment="Category keys wrapped to each enrolled device and to the recovery key; "
        "deleting them (erasure) shreds the protected content.",
    )
    op.create_table(
        "cloud_devices",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "device_id",
            sa.String(length=40),
            nullable=False,
            comment="Random id made by the device.",
        ),
        sa.Column(
            "public_key", sa.String(length=64), nullable=False, comment="X25519 public key, hex."
        ),
        sa.Column(
            "e2e",
            sa.String(length=10),
            nullable=False,
            comment="pending | approved (holds the keys).",
        ),
        sa.Column(
            "sync_off",
            sa.String(length=300),
            nullable=False,
            comment="Categories off on this device.",
        ),
        sa.Column("wifi_only", sa.Boolean(), nullable=False),
        sa.Column(
            "gallery_chosen",
            sa.Boolean(),
            nullable=False,
            comment="Gallery: chosen folders only.",
        ),
        sa.Column(
            "folders",
            sa.LargeBinary(),
            nullable=True,
            comment="The chosen gallery folders, sealed by the device to itself.",
        ),
        sa.Column("folder_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "device_id", name=op.f("pk_cloud_devices")),
        comment="A person's devices as cloud knows them: their public key for advanced "
        "protection and their device-side sync settings.",
    )


def downgrade() -> None:
    op.drop_table("cloud_devices")
    op.drop_table("cloud_e2e_keys")
    op.drop_table("cloud_protection")
