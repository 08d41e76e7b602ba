"""Migration 0026 adds ``oauth_clients.id_token_on_refresh``: a client registered before it
keeps receiving an ID token with every refresh (as it did), a client registered after it does
only when it asks; the downgrade drops the column."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from charter.store import migrate
from charter.store.engines import make_engine

_CLIENT = (
    "INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, sector, created_at) "
    "VALUES (:id, 'App', NULL, '[\"https://app.example/cb\"]', 'app.example', 1)"
)


def test_0026_keeps_earlier_clients_receiving_id_tokens_and_downgrades(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, "0025")
    with engine.begin() as conn:
        conn.execute(text(_CLIENT), {"id": "c_before"})
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text(_CLIENT), {"id": "c_after"})
        rows = conn.execute(
            text("SELECT id, id_token_on_refresh FROM oauth_clients ORDER BY id")
        ).all()
    assert [(r[0], bool(r[1])) for r in rows] == [("c_after", False), ("c_before", True)]
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0025")
    columns = {c["name"] for c in inspect(engine).get_columns("oauth_clients")}
    assert "id_token_on_refresh" not in columns and "sector" in columns
