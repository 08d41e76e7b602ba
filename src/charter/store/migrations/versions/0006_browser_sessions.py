"""Browser sessions on the server (one for the Privacy Center and the OpenID provider) and
what relying parties register for RP-initiated logout and sector identifier URIs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acct_browser_sessions",
        sa.Column(
            "id",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the cookie's session id.",
        ),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=True,
            comment="Signed-in account, else null.",
        ),
        sa.Column(
            "account_session",
            sa.String(length=40),
            nullable=True,
            comment="acct_sessions.id when signed in.",
        ),
        sa.Column(
            "data", sa.LargeBinary(), nullable=False, comment="AES-GCM under a key from the cookie."
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_browser_sessions")),
        comment="Browser sessions shared by the Privacy Center and the OpenID provider.",
    )
    op.create_index(
        "ix_acct_browser_sessions_subject", "acct_browser_sessions", ["subject_id"], unique=False
    )
    op.create_index(
        "ix_acct_browser_sessions_expires", "acct_browser_sessions", ["expires_at"], unique=False
    )
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(
            sa.Column(
                "post_logout_redirect_uris",
                sa.Text(),
                nullable=True,
                comment="JSON list for RP-initiated logout, matched exactly.",
            )
        )
        batch.add_column(
            sa.Column(
                "sector_identifier_uri",
                sa.Text(),
                nullable=True,
                comment="OIDC Core 8.1 sector_identifier_uri, when the client named one.",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("sector_identifier_uri")
        batch.drop_column("post_logout_redirect_uris")
    op.drop_index("ix_acct_browser_sessions_expires", table_name="acct_browser_sessions")
    op.drop_index("ix_acct_browser_sessions_subject", table_name="acct_browser_sessions")
    op.drop_table("acct_browser_sessions")
