"""Mi Browser, Mi Video and Mi Pay: aggregated analytics counters, the browser's synced
kinds, Mi Video's online/local mode and Mi Pay's tokenisation vault

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-04 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_aggregates",
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("day", sa.BigInteger(), nullable=False, comment="Days since the epoch (UTC)."),
        sa.Column(
            "kind", sa.String(length=40), nullable=False, comment="The catalog data type counted."
        ),
        sa.Column("module", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column(
            "reports", sa.BigInteger(), nullable=False, comment="Reports that added to this row."
        ),
        sa.Column("total", sa.BigInteger(), nullable=False, comment="The sum of their values."),
        sa.PrimaryKeyConstraint(
            "service", "day", "kind", "module", "event", name=op.f("pk_service_aggregates")
        ),
        comment="Aggregated analytics counters per day; never linked to anyone.",
    )
    op.create_table(
        "browser_sync",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="bookmarks | history | tabs | settings.",
        ),
        sa.Column(
            "item_id",
            sa.String(length=40),
            nullable=False,
            comment="The cloud item holding it (ci_...).",
        ),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "kind", name=op.f("pk_browser_sync")),
        comment="Per person and synced kind: the cloud item holding it (content is in the gate).",
    )
    op.create_table(
        "video_modes",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "online",
            sa.Boolean(),
            nullable=False,
            comment="Online features in use (else local only).",
        ),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_video_modes")),
        comment="Per person: online features or local features only (local unless set).",
    )
    op.create_table(
        "pay_cards",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "token", sa.String(length=40), nullable=False, comment="The card's token (tok_...)."
        ),
        sa.Column(
            "number_record",
            sa.String(length=40),
            nullable=False,
            comment="Gate record of the number.",
        ),
        sa.Column(
            "valid_to_record",
            sa.String(length=40),
            nullable=False,
            comment="Gate record of the expiry.",
        ),
        sa.Column(
            "pseudonym",
            sa.String(length=40),
            nullable=False,
            comment="Keyed pseudonym of the number (cp_...), as transaction records show it.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "token", name=op.f("pk_pay_cards")),
        comment="Tokenised cards: token to encrypted gate records (no card data here).",
    )


def downgrade() -> None:
    op.drop_table("pay_cards")
    op.drop_table("video_modes")
    op.drop_table("browser_sync")
    op.drop_table("service_aggregates")
