"""Tokens carry their subject: ``acct_tokens.subject_id`` (filled from each token's session),
so that a token lookup is followed by a single-node query on the subject's session under
Citus, and account erasure and ``verify-erasure`` find a subject's tokens by index. Sessions
are then read by (subject_id, id): the id-only index goes (``docs/scale.md``).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add and fill ``acct_tokens.subject_id``; index it; drop ``ix_acct_sessions_id``."""
    op.add_column(
        "acct_tokens",
        sa.Column(
            "subject_id",
            sa.String(40),
            nullable=True,
            comment="The session's subject (set on every row since 0019): the next query's route.",
        ),
    )
    op.execute(
        "UPDATE acct_tokens SET subject_id = (SELECT s.subject_id FROM acct_sessions s "
        "WHERE s.id = acct_tokens.session_id)"
    )
    op.create_index("ix_acct_tokens_subject", "acct_tokens", ["subject_id"])
    op.drop_index("ix_acct_sessions_id", table_name="acct_sessions")


def downgrade() -> None:
    """Back to tokens without a subject and sessions also indexed by id alone."""
    op.create_index("ix_acct_sessions_id", "acct_sessions", ["id"])
    op.drop_index("ix_acct_tokens_subject", table_name="acct_tokens")
    with op.batch_alter_table("acct_tokens") as batch:
        batch.drop_column("subject_id")
