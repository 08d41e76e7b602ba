"""Content services: Themes favourites and purchases, Get Apps installs, reviews and points,
and the aggregate-only analytics counters of the content services

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-04 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    op.create_table(
        "themes_favorites",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "resource_id", sa.String(length=20), nullable=False, comment="A resource of the store."
        ),
        sa.Column(
            "record_id",
            sa.String(length=40),
            nullable=False,
            comment="Gate record of the favourite.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "resource_id", name=op.f("pk_themes_favorites")),
        comment="A signed-in person's favourite resources (the list itself is in the gate).",
    )
    op.create_table(
        "themes_purchases",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "resource_id", sa.String(length=20), nullable=False, comment="A resource of the store."
        ),
        sa.Column(
            "record_id",
            sa.String(length=40),
            nullable=False,
            comment="Gate record of the download.",
        ),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("purchased_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "resource_id", name=op.f("pk_themes_purchases")),
        comment="Resources a signed-in person bought or downloaded (the record is in the gate).",
    )
    op.create_table(
        "get_apps_installs",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=20), nullable=False, comment="An app of the store."),
        sa.Column(
            "record_id", sa.String(length=40), nullable=False, comment="Gate record of the install."
        ),
        sa.Column("installed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "app_id", name=op.f("pk_get_apps_installs")),
        comment="Apps a person installed through the store (the record is in the gate).",
    )
    op.create_table(
        "get_apps_reviews",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False, comment="Review id (rv_...)."),
        sa.Column("app_id", sa.String(length=20), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False, comment="1 to 5 stars."),
        sa.Column(
            "record_id",
            sa.String(length=40),
            nullable=False,
            comment="Gate record of text and nickname.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "id", name=op.f("pk_get_apps_reviews")),
        comment="Reviews: app, rating and time (text and nickname are in the gate).",
    )
    op.create_index(
        "ix_get_apps_reviews_app", "get_apps_reviews", ["app_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "get_apps_points",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False, comment="The last exchange."),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_get_apps_points")),
        comment="One row per person who exchanged points (exchanges take turns on it); points "
        "follow from the gate's records of installs, reviews and exchanges.",
    )


def downgrade() -> None:
    op.drop_table("get_apps_points")
    op.drop_index("ix_get_apps_reviews_app", table_name="get_apps_reviews")
    op.drop_table("get_apps_reviews")
    op.drop_table("get_apps_installs")
    op.drop_table("themes_purchases")
    op.drop_table("themes_favorites")
    op.drop_table("content_analytics")
