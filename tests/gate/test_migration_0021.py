"""Migration 0021 (one analytics table) moves every Themes and App Vault counter from
``content_analytics`` into ``service_aggregates`` (a crash as ``crash_data``, any other event as
``product_interaction``; its count as both ``reports`` and ``total``), drops the old table, and
downgrades back with the counts."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from charter.store import migrate
from charter.store.engines import make_engine


def test_0021_moves_the_content_counters_and_downgrades(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, "0014")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_analytics (service, module, event, day, count) VALUES "
                "('themes', 'wallpapers_home', 'page_view', 20000, 7), "
                "('app_vault', 'news_card', 'crash', 20001, 2)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO service_aggregates (service, day, kind, module, event, reports, "
                "total) VALUES ('browser', 20000, 'product_interaction', 'tabs', 'open', 12, 30)"
            )
        )
    migrate.upgrade(engine)
    assert "content_analytics" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT service, day, kind, module, event, reports, total FROM service_aggregates "
                "ORDER BY service"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("app_vault", 20001, "crash_data", "news_card", "crash", 2, 2),
        ("browser", 20000, "product_interaction", "tabs", "open", 12, 30),
        ("themes", 20000, "product_interaction", "wallpapers_home", "page_view", 7, 7),
    ]
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
    with engine.connect() as conn:
        back = conn.execute(
            text("SELECT service, module, event, day, count FROM content_analytics ORDER BY 1")
        ).all()
        left = conn.execute(text("SELECT service FROM service_aggregates")).scalars().all()
    assert [tuple(r) for r in back] == [
        ("app_vault", "news_card", "crash", 20001, 2),
        ("themes", "wallpapers_home", "page_view", 20000, 7),
    ]
    assert left == ["browser"]
    engine.dispose()
