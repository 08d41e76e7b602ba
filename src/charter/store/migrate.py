"""Schema migrations with Alembic, run programmatically on any Charter database."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at Charter's migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("charter.store") / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring a database's schema up to ``revision`` (idempotent)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at, or None when it has no Charter schema."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of Charter."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
