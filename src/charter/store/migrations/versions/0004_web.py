"""Privacy Center: staff roles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_staff",
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=False,
            comment="The staff member's account id.",
        ),
        sa.Column(
            "handle",
            sa.String(length=60),
            nullable=False,
            comment="Name shown in histories, e.g. ana.",
        ),
        sa.Column("role", sa.String(length=16), nullable=False, comment="staff | admin."),
        sa.Column(
            "granted_at", sa.BigInteger(), nullable=False, comment="Microseconds since epoch."
        ),
        sa.Column(
            "granted_by",
            sa.String(length=80),
            nullable=False,
            comment="Who granted it (admin, cli, demo).",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_web_staff")),
        sa.UniqueConstraint("handle", name="uq_web_staff_handle"),
        comment="Accounts allowed on the Privacy Center's staff pages.",
    )


def downgrade() -> None:
    op.drop_table("web_staff")
