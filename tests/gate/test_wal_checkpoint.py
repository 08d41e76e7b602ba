"""The SQLite WAL is written back in large steps (``wal_autocheckpoint``), and truncated at
once where deleted bytes must not survive (:func:`charter.store.engines.checkpoint`)."""

from __future__ import annotations

from pathlib import Path

from charter.store.engines import checkpoint, make_engine

PAGE = 4096


def _wal_pages(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size // PAGE if wal.exists() else 0


def test_the_wal_grows_past_sqlites_default_interval_then_truncates_on_demand(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    engine = make_engine(f"sqlite+pysqlite:///{db}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
        # 1,500 pages in 30 commits: SQLite's default (1,000 pages) would have checkpointed
        # and restarted the WAL on the way
        for commit in range(30):
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO t (v) VALUES (?)",
                    [(bytes([commit]) * (PAGE - 200),) for _ in range(50)],
                )
        assert _wal_pages(db) > 1_500
        checkpoint(engine)
        assert _wal_pages(db) == 0
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1_500
    finally:
        engine.dispose()
