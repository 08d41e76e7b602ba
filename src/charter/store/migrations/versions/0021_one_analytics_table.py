"""One table of aggregated analytics: the Themes and App Vault counters
(``content_analytics``) join Mi Browser's and Mi Video's (``service_aggregates``), kept by one
module (:mod:`charter.services.aggregates`). Each counter moves with its count as both
``reports`` and ``total``; a crash counts as ``crash_data``, any other event as
``product_interaction`` (the catalog's analytics types of both services).

Revision ID: 0021
Revises: 0014
Create Date: 2026-12-04 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Move every content counter into ``service_aggregates``, then drop its old table."""
    op.execute(
        "INSERT INTO service_aggregates (service, day, kind, module, event, reports, total) "
        "SELECT service, day, "
        "CASE WHEN event = 'crash' THEN 'crash_data' ELSE 'product_interaction' END, "
        "module, event, count, count FROM content_analytics"
    )
    op.drop_table("content_analytics")


def downgrade() -> None:
    """Recreate ``content_analytics`` and move the Themes and App Vault counters back."""
    op.create_table(
        "content_analytics",
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column(
            "module", sa.String(length=40), nullable=False, comment="A module or page of the app."
        ),
        sa.Column(
            "event", sa.String(length=12), nullable=False, comment="click | page_view | crash."
        ),
        sa.Column("day", sa.Integer(), nullable=False, comment="Days since the epoch (UTC)."),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "service", "module", "event", "day", name=op.f("pk_content_analytics")
        ),
        comment="Aggregate analytics of the content services: counts only, no subject.",
    )
    op.execute(
        "INSERT INTO content_analytics (service, module, event, day, count) "
        "SELECT service, module, event, day, SUM(reports) FROM service_aggregates "
        "WHERE service IN ('themes', 'app_vault') GROUP BY service, module, event, day"
    )
    op.execute("DELETE FROM service_aggregates WHERE service IN ('themes', 'app_vault')")
