"""
The group commit gathers a batch: after a batch of n units it waits a little (never longer
than a batch takes, at most ``MAX_WAIT_SECONDS``) for up to n, so concurrent writers share
one fsync; a lone writer never waits; units that come during the wait join the batch.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import sqlalchemy as sa

from charter.store.groupcommit import GroupCommit


class _Watched(GroupCommit):
    """A group commit that counts its waits, and can be told to receive units during one."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(lambda: engine)
        self.waits = 0
        self.arriving: list[Future[int]] = []
        self.arrive = 0  # units to submit as the next wait starts

    def _wait_for_more(self, items: list) -> None:  # type: ignore[type-arg]
        self.waits += 1
        for _ in range(self.arrive):
            self.arriving.append(self.submit(self._unit))
        self.arrive = 0
        super()._wait_for_more(items)

    def _unit(self, conn: sa.Connection) -> int:
        conn.exec_driver_sql("INSERT INTO t DEFAULT VALUES")
        return self.batches  # the same for every unit of one batch


def _group(tmp_path: Path) -> _Watched:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER PRIMARY KEY)")
    return _Watched(engine)


def _batch_of_three(group: _Watched) -> list[int]:
    """Three units queued while the thread is busy: they make one batch."""
    busy, release = threading.Event(), threading.Event()

    def blocker(_conn: sa.Connection) -> int:
        busy.set()
        release.wait()
        return -1

    first = group.submit(blocker)
    busy.wait()
    queued = [group.submit(group._unit) for _ in range(3)]
    release.set()
    first.result()
    return [f.result() for f in queued]


def test_a_lone_writer_never_waits(tmp_path: Path) -> None:
    group = _group(tmp_path)
    seen = [group.submit(group._unit).result() for _ in range(6)]
    assert seen == list(range(6))  # a batch each
    assert group.waits == 0


def test_after_a_batch_of_three_a_lone_unit_waits_once_then_nobody_waits(tmp_path: Path) -> None:
    group = _group(tmp_path)
    assert len(set(_batch_of_three(group))) == 1  # one batch
    waits = group.waits
    group.submit(group._unit).result()  # alone where three were: it waits (briefly) once
    assert group.waits == waits + 1
    group.submit(group._unit).result()  # one is now all it expects
    assert group.waits == waits + 1


def test_units_that_come_during_the_wait_join_the_batch(tmp_path: Path) -> None:
    group = _group(tmp_path)
    _batch_of_three(group)
    group.arrive = 2
    lone = group.submit(group._unit).result()
    assert [f.result() for f in group.arriving] == [lone, lone]  # the same batch
    with group._engine_of().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 6
