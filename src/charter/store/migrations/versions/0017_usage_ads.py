"""App usage data, analytics and advertising: latest installed-apps snapshot per device,
essential telemetry counters, the privacy-budget ledger, the usage population, released
aggregates, locally private reports, and advertising IDs (keyed hashes)

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_snapshots",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "device_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the device id.",
        ),
        sa.Column(
            "record_id",
            sa.String(length=40),
            nullable=False,
            comment="Gate record of the latest snapshot.",
        ),
        sa.Column(
            "day", sa.Integer(), nullable=False, comment="UTC day number the snapshot was taken."
        ),
        sa.Column("taken_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "device_hash", name=op.f("pk_usage_snapshots")),
        comment="The latest installed-apps snapshot per device (its content is in the gate).",
    )
    op.create_table(
        "usage_essential",
        sa.Column("day", sa.Integer(), nullable=False, comment="UTC day number."),
        sa.Column(
            "purpose", sa.String(length=20), nullable=False, comment="system_updates | security."
        ),
        sa.Column("system_version", sa.String(length=40), nullable=False),
        sa.Column("device_model", sa.String(length=40), nullable=False),
        sa.Column(
            "status", sa.String(length=40), nullable=False, comment="Update or patch status."
        ),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "purpose",
            "system_version",
            "device_model",
            "status",
            name=op.f("pk_usage_essential"),
        ),
        comment="Essential telemetry (system updates, security): counters with no subject or device.",
    )
    op.create_index("ix_usage_essential_expires", "usage_essential", ["expires_at"], unique=False)
    op.create_table(
        "usage_budget",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column(
            "spent_micro", sa.BigInteger(), nullable=False, comment="Epsilon spent, in millionths."
        ),
        sa.Column(
            "releases", sa.Integer(), nullable=False, comment="Releases the person contributed to."
        ),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "purpose", name=op.f("pk_usage_budget")),
        comment="Per person and purpose: the lifetime differential-privacy budget spent.",
    )
    op.create_table(
        "usage_people",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_usage_people")),
        comment="Who has sent usage events: the population an aggregate may draw on.",
    )
    op.create_table(
        "usage_releases",
        sa.Column(
            "release_id", sa.String(length=40), nullable=False, comment="Release id (ur_...)."
        ),
        sa.Column(
            "category", sa.String(length=120), nullable=False, comment="A public category (an app)."
        ),
        sa.Column("query", sa.String(length=40), nullable=False),
        sa.Column(
            "count", sa.BigInteger(), nullable=False, comment="The noisy count (never below k)."
        ),
        sa.Column("epsilon_micro", sa.BigInteger(), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("release_id", "category", name=op.f("pk_usage_releases")),
        comment="Differentially private aggregates as released: no subject, no device, no id.",
    )
    op.create_table(
        "ads_ids",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "device_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the device id.",
        ),
        sa.Column(
            "id_hash",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the advertising ID.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "device_hash", name=op.f("pk_ads_ids")),
        comment="Each device's current advertising ID (keyed hash; a reset overwrites it).",
    )
    op.create_index("ix_ads_ids_id_hash", "ads_ids", ["id_hash"], unique=False)

    op.create_table(
        "usage_ldp_reports",
        sa.Column("report_id", sa.String(length=40), nullable=False, comment="Report id (lr_...)."),
        sa.Column("day", sa.Integer(), nullable=False, comment="UTC day number received."),
        sa.Column("epsilon_micro", sa.BigInteger(), nullable=False),
        sa.Column(
            "a", sa.BigInteger(), nullable=False, comment="The report's hash function: multiplier."
        ),
        sa.Column(
            "b", sa.BigInteger(), nullable=False, comment="The report's hash function: offset."
        ),
        sa.Column("bucket", sa.Integer(), nullable=False, comment="The privatised bucket."),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_usage_ldp_reports")),
        comment="Locally privatised app-usage reports (OLH): no subject, no device, no true value.",
    )
    op.create_index(
        "ix_usage_ldp_reports_eps", "usage_ldp_reports", ["epsilon_micro"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_usage_ldp_reports_eps", table_name="usage_ldp_reports")
    op.drop_table("usage_ldp_reports")
    op.drop_index("ix_ads_ids_id_hash", table_name="ads_ids")
    op.drop_table("ads_ids")
    op.drop_table("usage_releases")
    op.drop_table("usage_people")
    op.drop_table("usage_budget")
    op.drop_index("ix_usage_essential_expires", table_name="usage_essential")
    op.drop_table("usage_essential")
    op.drop_table("usage_snapshots")
