"""
Group commit: many small write transactions from concurrent requests share one commit.

SQLite (and PostgreSQL with ``synchronous_commit=on``) pays one fsync per commit; a busy
token endpoint would spend most of its time there. :class:`GroupCommit` queues each unit of
work, runs the units waiting at that moment in one transaction — each inside its own
savepoint, so one failing unit rolls back alone — commits once, and only then answers every
caller. Durability is unchanged: no caller hears "done" before its work is on disk.

Concurrent writers are gathered: after a batch of n units the next one waits, for at most as
long as a batch takes, for up to n units (a lone writer, whose batches hold one, never
waits). The wait also leaves the interpreter lock to the event loop reading those writers'
requests, instead of the batch's statements competing with it.

A unit may leave rows for the batch to write together (:class:`Batched`, e.g. its audit
entries): the group's ``finish`` writes those of every unit in one go, inside the same
transaction, just before the commit. Should anything fail, each unit runs again in its own
savepoint with its own ``finish``, so its rows exist exactly when its work commits.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")
MAX_BATCH = 128
IDLE_SECONDS = 2.0
MAX_WAIT_SECONDS = 0.002
"""The longest a batch waits for units the last one suggests are coming (see
:meth:`GroupCommit._wait_for_more`)."""

Finish = Callable[[Connection, list[Any]], None]
"""Writes the rows units left for the batch (in the units' order) inside its transaction."""


@dataclass(frozen=True, slots=True)
class Batched(Generic[T]):
    """What a unit returns when it leaves ``rows`` for the group's ``finish``: its caller
    gets ``result``."""

    result: T
    rows: list[Any]


_Unit = tuple[Callable[[Connection], Any], "Future[Any]"]


class GroupCommit:
    """Runs units of work in shared transactions on a background thread."""

    def __init__(self, engine_of: Callable[[], Engine], finish: Finish | None = None) -> None:
        self._engine_of = engine_of
        self._finish = finish
        self._queue: queue.SimpleQueue[_Unit] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None  # the thread's own, between batches
        self._expected = 1  # units the last batch held: how many the next may wait for
        self._batch_seconds = 0.0  # a batch's duration, averaged: the longest wait
        self.batches = 0

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in a shared transaction; returns its result once committed."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Connection], T | Batched[T]]) -> Future[T]:
        """
        Queue ``work(conn)`` for a shared transaction without waiting: the future holds its
        result once committed (or its exception). An event loop awaits it without a thread
        of its own (``asyncio.wrap_future``). A unit returning :class:`Batched` needs a
        group made with ``finish``.
        """
        future: Future[T] = Future()
        self._queue.put((work, future))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="charter-group-commit", daemon=True
                )
                self._thread.start()
        return future

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        self._release_connection()
                        return
                continue
            items = [first]
            self._take_waiting(items)
            if len(items) < self._expected:
                self._wait_for_more(items)
            self._expected = len(items)
            started = time.perf_counter()
            self._run_batch(items)
            # the moving average of a batch's duration bounds the next wait
            self._batch_seconds += (time.perf_counter() - started - self._batch_seconds) / 8

    def _take_waiting(self, items: list[_Unit]) -> None:
        while len(items) < MAX_BATCH:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def _wait_for_more(self, items: list[_Unit]) -> None:
        """
        Wait a little for the units the last batch suggests are on their way: as many as it
        held, for at most as long as a batch takes (never over :data:`MAX_WAIT_SECONDS`).

        With concurrent writers this turns several small batches into one, one fsync for
        all of them; and while this thread waits, the event loop holds the interpreter lock
        to read the next requests, instead of competing with the batch for it. A lone
        writer never waits: its batches hold one unit, so one is all it expects. A wait that
        ends short lowers the expectation at once; a busier moment raises it, as the batch
        takes every unit queued.
        """
        deadline = time.perf_counter() + min(self._batch_seconds, MAX_WAIT_SECONDS)
        while len(items) < self._expected:
            remaining = deadline - time.perf_counter()
            try:  # (past the deadline, a unit queued already still joins)
                unit = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                return
            items.append(unit)
            self._take_waiting(items)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """
        A batch's transaction. On SQLite, on the thread's own connection, kept from one batch
        to the next while the thread runs: a busy group skips the pool's check-out and the
        reset (a rollback) on return. A server's connection (PostgreSQL) may go stale
        between batches, so there each batch checks one out of the pool, which pings it.
        """
        engine = self._engine_of()
        if engine.dialect.name != "sqlite":
            with engine.begin() as pooled:
                yield pooled
            return
        held = self._conn
        if held is None or held.closed or held.invalidated or held.engine is not engine:
            self._release_connection()
            held = self._conn = engine.connect()
        with held.begin():
            yield held

    def _release_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _run_batch(self, items: list[_Unit]) -> None:
        live = [(work, future) for work, future in items if future.set_running_or_notify_cancel()]
        if not live:
            return  # every unit was cancelled while queued: nobody waits for them
        try:
            # first without savepoints (two statements fewer per unit) and with one finish
            # for the whole batch; should anything fail, the whole transaction rolls back
            # and the batch runs again, each unit (and its finish) in its own savepoint, so
            # the failing unit rolls back alone
            outcomes = self._attempt(live, isolated=False)
        except _UnitFailedError:
            try:
                outcomes = self._attempt(live, isolated=True)
            except Exception as exc:
                self._release_connection()  # whatever state it is in, the next batch starts anew
                self._fail(live, exc)
                return
        except Exception as exc:
            self._release_connection()
            self._fail(live, exc)
            return
        self.batches += 1
        for future, result, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def _attempt(
        self, live: list[_Unit], *, isolated: bool
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        with self._transaction() as conn:
            if not isolated:
                rows: list[Any] = []
                try:
                    for work, future in live:
                        result = work(conn)
                        if type(result) is Batched:
                            rows += result.rows
                            result = result.result
                        outcomes.append((future, result, None))
                    if rows:
                        self._finish_rows(conn, rows)
                except Exception as exc:
                    raise _UnitFailedError from exc
                return outcomes
            for work, future in live:
                try:
                    with conn.begin_nested():
                        result = work(conn)
                        if type(result) is Batched:
                            if result.rows:
                                self._finish_rows(conn, result.rows)
                            result = result.result
                    outcomes.append((future, result, None))
                except Exception as exc:
                    outcomes.append((future, None, exc))
        return outcomes

    def _finish_rows(self, conn: Connection, rows: list[Any]) -> None:
        if self._finish is None:
            raise TypeError("a unit returned Batched rows to a group made without finish")
        self._finish(conn, rows)

    @staticmethod
    def _fail(live: list[_Unit], exc: Exception) -> None:
        """The commit itself failed: nobody's work is done."""
        for _work, future in live:
            future.set_exception(exc)


class _UnitFailedError(Exception):
    """A unit of an unisolated attempt raised: the batch runs again with savepoints."""
