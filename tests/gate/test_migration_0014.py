"""Migration 0014 (Citus-ready keys) keeps every row: records, switch history and sessions
written at the revision before are all there after the upgrade, keyed by (subject_id, id), the
records table clustered by subject (``WITHOUT ROWID``); and it downgrades back."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from charter.store import migrate
from charter.store.engines import make_engine


def _seed(conn: object) -> None:
    run = conn.execute  # type: ignore[attr-defined]
    run(text("INSERT INTO subjects VALUES ('s_1', 'account', 'de', 'active', 1, 1)"))
    for i in range(3):
        run(
            text(
                "INSERT INTO records (id, subject_id, service, data_type, qualifier, purposes, "
                "protection, value, collected_at, expires_at) VALUES "
                f"('r{i}', 's_1', 'cloud', 'notes', 'identified', 1, 'plain', x'01', 1, "
                f"{'NULL' if i else 5})"
            )
        )
        run(
            text(
                "INSERT INTO switch_history (subject_id, key, value, changed_at, source, actor) "
                f"VALUES ('s_1', 'k{i}', 1, {i}, 'user', 'subject')"
            )
        )
    run(
        text(
            "INSERT INTO acct_sessions (id, subject_id, kind, created_at, last_used_at, "
            "expires_at, idle_micros, auth_time) VALUES ('se_1', 's_1', 'account', 1, 1, 9, 9, 1)"
        )
    )


def test_0014_keeps_every_row_and_rekeys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, "0017")
    with engine.begin() as conn:
        _seed(conn)
    migrate.upgrade(engine)
    schema = inspect(engine)
    for table in ("records", "switch_history", "acct_sessions", "rights_consents"):
        assert schema.get_pk_constraint(table)["constrained_columns"] == ["subject_id", "id"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 3
        assert [r[0] for r in conn.execute(text("SELECT id FROM switch_history ORDER BY id"))] == [
            1,
            2,
            3,
        ]
        assert conn.execute(text("SELECT subject_id FROM acct_sessions")).scalar() == "s_1"
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'records'")).scalar()
        assert "WITHOUT ROWID" in str(ddl)
    assert {i["name"] for i in schema.get_indexes("records")} == {"ix_records_expires_at"}
    migrate.upgrade(engine, "0014")  # idempotent
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0017")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 3
    assert inspect(engine).get_pk_constraint("records")["constrained_columns"] == ["id"]
