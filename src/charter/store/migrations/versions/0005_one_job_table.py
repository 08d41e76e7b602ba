"""One job table: the gate's unused ``jobs`` table goes (purge and key rewrap resume from the
data itself; account erasures and exports keep their state in ``rights_jobs``)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("jobs")


def downgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column(
            "id", sa.String(length=64), nullable=False, comment="e.g. purge, rotate:<version>."
        ),
        sa.Column("state", sa.String(length=16), nullable=False, comment="running | done."),
        sa.Column("cursor", sa.Text(), nullable=True, comment="Where a resumable job got to."),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        comment="State of resumable jobs (purge, key rotation).",
    )
