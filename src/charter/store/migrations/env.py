"""Alembic environment: runs on the connection Charter passes in (see charter.store.migrate).

The target metadata is the registry's (:mod:`charter.store.registry`): every table a package
registers; the migration scripts themselves are explicit."""

from __future__ import annotations

from alembic import context

from charter.store.registry import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - Charter always passes a connection
    raise RuntimeError("run migrations through `charter db upgrade`, which supplies the connection")

context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
