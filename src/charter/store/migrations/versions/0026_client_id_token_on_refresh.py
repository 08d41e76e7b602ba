"""OAuth clients: ``id_token_on_refresh``, whether a refresh of an ``openid`` grant returns a
new ID token (OpenID Connect Core 12.2 lets it be omitted). New clients are registered
without it unless they ask; clients registered before this revision keep receiving one, as
they did.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 02:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(
            sa.Column(
                "id_token_on_refresh",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="Whether a refresh of an openid grant returns a new ID token "
                "(OIDC Core 12.2).",
            )
        )
    clients = sa.table("oauth_clients", sa.column("id_token_on_refresh", sa.Boolean()))
    op.execute(clients.update().values(id_token_on_refresh=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("id_token_on_refresh")
