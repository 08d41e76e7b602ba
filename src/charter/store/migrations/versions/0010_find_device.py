"""Find Device: owner keys, bound devices and their identifier hashes, the command queue,
sealed location reports

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "find_device_owners",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "seal_public", sa.LargeBinary(), nullable=False, comment="X25519 public key (HPKE)."
        ),
        sa.Column(
            "sign_public",
            sa.LargeBinary(),
            nullable=False,
            comment="Ed25519 public key (commands).",
        ),
        sa.Column(
            "wrapped",
            sa.LargeBinary(),
            nullable=True,
            comment="The private keys, AES-GCM under a passphrase-derived key (opaque here).",
        ),
        sa.Column(
            "endorsement",
            sa.LargeBinary(),
            nullable=True,
            comment="New keys signed by the previous signing key (devices adopt them at once).",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_find_device_owners")),
        comment="Find-device owner keys (public parts; private parts only wrapped).",
    )
    op.create_table(
        "find_device_devices",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False, comment="Device id (fd_...)."),
        sa.Column(
            "device_key",
            sa.LargeBinary(),
            nullable=False,
            comment="Ed25519 public key of the device.",
        ),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the device token.",
        ),
        sa.Column("state", sa.String(length=4), nullable=False, comment="on | off."),
        sa.Column("off_since", sa.BigInteger(), nullable=True),
        sa.Column(
            "history_gone_at", sa.BigInteger(), nullable=True, comment="When the 30-day rule ran."
        ),
        sa.Column("lost", sa.Boolean(), nullable=False),
        sa.Column(
            "lost_command", sa.String(length=40), nullable=True, comment="The lost_mode_on command."
        ),
        sa.Column("interval_s", sa.Integer(), nullable=False, comment="Lost-mode report interval."),
        sa.Column(
            "binding", sa.LargeBinary(), nullable=False, comment="The binding record (no values)."
        ),
        sa.Column(
            "binding_sig", sa.LargeBinary(), nullable=False, comment="The server's signature of it."
        ),
        sa.Column("bound_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "activations", sa.Integer(), nullable=False, comment="1, +1 on each re-activation."
        ),
        sa.Column("last_seen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_find_device_devices")),
        comment="Bound devices: keys, on/off, lost mode, the signed binding record.",
    )
    op.create_index(
        "ix_find_device_devices_off", "find_device_devices", ["state", "off_since"], unique=False
    )
    op.create_table(
        "find_device_identifiers",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind", sa.String(length=20), nullable=False, comment="mac_address | device_id | fid."
        ),
        sa.Column(
            "id_hash", sa.String(length=64), nullable=False, comment="Keyed hash of the identifier."
        ),
        sa.Column(
            "active", sa.Boolean(), nullable=False, comment="The binding holds (not released)."
        ),
        sa.PrimaryKeyConstraint(
            "subject_id", "device_id", "kind", name=op.f("pk_find_device_identifiers")
        ),
        comment="Keyed hashes of bound devices' identifiers, checked at activation.",
    )
    op.create_index(
        "ix_find_device_identifiers_hash", "find_device_identifiers", ["id_hash"], unique=False
    )
    op.create_table(
        "find_device_commands",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False, comment="Command id (fc_...)."),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.LargeBinary(),
            nullable=True,
            comment="The signed payload, AES-GCM under a keyring-derived key; cleared once done.",
        ),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("actor", sa.String(length=40), nullable=False, comment="subject | web | cli."),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("acked_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "outcome", sa.String(length=24), nullable=True, comment="done | refused:<reason>."
        ),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_find_device_commands")),
        sa.UniqueConstraint("subject_id", "nonce", name="uq_find_device_commands_nonce"),
        comment="Owner-signed commands to devices and their acknowledgements.",
    )
    op.create_index(
        "ix_find_device_commands_device",
        "find_device_commands",
        ["subject_id", "device_id", "acked_at"],
        unique=False,
    )
    op.create_index(
        "ix_find_device_commands_created",
        "find_device_commands",
        ["subject_id", "kind", "created_at"],
        unique=False,
    )
    op.create_table(
        "find_device_reports",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "id", sa.String(length=40), nullable=False, comment="Report id (fr_...), time-ordered."
        ),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="locate | lost."),
        sa.Column("command_id", sa.String(length=40), nullable=True),
        sa.Column(
            "sealed", sa.LargeBinary(), nullable=False, comment="HPKE ciphertext to the owner."
        ),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_find_device_reports")),
        comment="Sealed location reports (only the owner's key opens them).",
    )
    op.create_index(
        "ix_find_device_reports_device",
        "find_device_reports",
        ["subject_id", "device_id", "received_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_find_device_reports_device", table_name="find_device_reports")
    op.drop_table("find_device_reports")
    op.drop_index("ix_find_device_commands_created", table_name="find_device_commands")
    op.drop_index("ix_find_device_commands_device", table_name="find_device_commands")
    op.drop_table("find_device_commands")
    op.drop_index("ix_find_device_identifiers_hash", table_name="find_device_identifiers")
    op.drop_table("find_device_identifiers")
    op.drop_index("ix_find_device_devices_off", table_name="find_device_devices")
    op.drop_table("find_device_devices")
    op.drop_table("find_device_owners")
