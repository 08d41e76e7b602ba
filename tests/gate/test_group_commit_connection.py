"""
The group commit's connection on SQLite: its thread keeps one connection from batch to batch
(no pool check-out and reset per batch), starts anew after a batch whose connection broke,
and closes it when it stops for lack of work.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter.store import groupcommit
from charter.store.groupcommit import GroupCommit


def _engine(tmp_path: Path) -> tuple[sa.Engine, list[int]]:
    """An engine with a table ``t`` and the ids of the connections checked out of its pool."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER PRIMARY KEY)")
    checkouts: list[int] = []

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: object, _record: object, _proxy: object) -> None:
        checkouts.append(id(dbapi_conn))

    return engine, checkouts


def _insert(value: int):  # type: ignore[no-untyped-def]
    def work(conn: sa.Connection) -> int:
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", (value,))
        return value

    return work


def _stored(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT v FROM t ORDER BY v")]


def test_batches_in_a_row_share_one_connection_and_each_commits(tmp_path: Path) -> None:
    engine, checkouts = _engine(tmp_path)
    group = GroupCommit(lambda: engine)
    for value in range(5):
        assert group.run(_insert(value)) == value
        assert _stored(engine) == list(range(value + 1))  # committed: another connection sees it
    assert group.batches == 5
    # one check-out by the group (its first batch), one by each read of the table
    assert len(checkouts) == 1 + 5
    assert checkouts.count(checkouts[0]) == 1, "the readers never got the group's connection"
    engine.dispose()


def test_a_batch_whose_connection_broke_leaves_the_next_batch_a_new_one(tmp_path: Path) -> None:
    engine, checkouts = _engine(tmp_path)
    group = GroupCommit(lambda: engine)
    assert group.run(_insert(1)) == 1

    def breaks(conn: sa.Connection) -> None:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        conn.invalidate()  # the connection is gone under the batch: its commit cannot happen

    with pytest.raises(sa.exc.SQLAlchemyError):
        group.run(breaks)
    before = len(checkouts)
    assert group.run(_insert(3)) == 3
    assert len(checkouts) == before + 1  # a new connection for the next batch
    assert _stored(engine) == [1, 3]  # the broken batch's row was never committed
    engine.dispose()


def test_the_thread_closes_its_connection_when_it_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groupcommit, "IDLE_SECONDS", 0.01)
    engine, _ = _engine(tmp_path)
    group = GroupCommit(lambda: engine)
    ran_on: list[threading.Thread] = []

    def work(conn: sa.Connection) -> None:
        ran_on.append(threading.current_thread())
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    group.run(work)
    ran_on[0].join(timeout=30)  # stops once its queue stays empty
    assert not ran_on[0].is_alive()
    pool = engine.pool
    assert isinstance(pool, sa.pool.QueuePool)
    assert pool.checkedout() == 0  # nothing left open: the file can be closed and removed
    assert group.run(_insert(2)) == 2  # a new thread takes over on the next unit
    assert _stored(engine) == [1, 2]
    engine.dispose()
