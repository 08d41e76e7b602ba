"""Alembic environment: runs on the connection Charter passes in (see charter.store.migrate)."""

from __future__ import annotations

from alembic import context

import charter.rights.tables
import charter.web.tables  # noqa: F401
from charter.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - Charter always passes a connection
    raise RuntimeError("run migrations through `charter db upgrade`, which supplies the connection")

context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
