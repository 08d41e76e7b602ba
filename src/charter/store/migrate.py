"""
Schema migrations with Alembic, run programmatically on any Charter database.

Alembic (several MiB of modules) is imported only when a migration runs: opening a database
that is already at the newest revision reads ``alembic_version`` with plain SQL and compares
it with the head revision read from the migration scripts themselves (:func:`head_revision`,
their ``revision`` and ``down_revision`` lines), so a server that starts on an up-to-date
deployment never loads it (tests/api/test_api_startup_imports.py).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"
_REVISION = re.compile(
    r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|["']([^"']+)["'])""", re.MULTILINE
)


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at Charter's migration scripts."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic loads only to migrate

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("charter.store") / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring a database's schema up to ``revision`` (idempotent). A database already at the
    head revision is left as it is without importing Alembic."""
    head = head_revision()
    if revision == "head" and head is not None and current_revision(engine) == head:
        return
    from alembic import command  # noqa: PLC0415 - Alembic loads only to migrate

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at, or None when it has no Charter schema (plain SQL)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(found[0]) if len(found) == 1 else None


@cache
def head_revision() -> str | None:
    """The newest revision shipped with this version of Charter: the one revision of the
    migration scripts that no other script names as its ``down_revision``."""
    folder = resources.files("charter.store") / "migrations" / "versions"
    revisions: set[str] = set()
    downs: set[str] = set()
    for script in folder.iterdir():
        if not script.name.endswith(".py") or script.name.startswith("_"):
            continue
        for name, _value, rev in _REVISION.findall(script.read_text(encoding="utf-8")):
            if rev:
                (revisions if name == "revision" else downs).add(rev)
    heads = sorted(revisions - downs)
    return heads[0] if len(heads) == 1 else None
