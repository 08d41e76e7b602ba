"""
Switch changes through the group commit: a failing unit of a shared batch rolls back alone
(the batch is retried with savepoints), the rows units leave for the batch (their audit
entries) are written exactly for the units that commit, and a change reads the subject's
status inside its own transaction, so a subject shredded or erased by another process is
refused at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.app import Charter
from charter.config import Settings
from charter.errors import NotFoundError, RefusedError
from charter.gate.erasure import remove_subject, shred_subject
from charter.store.groupcommit import Batched, GroupCommit


def test_a_failing_unit_rolls_back_alone_and_the_others_commit(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT PRIMARY KEY)")
    group = GroupCommit(lambda: engine)
    started, release = threading.Event(), threading.Event()

    def blocker(conn: sa.Connection) -> str:
        started.set()
        release.wait()
        conn.exec_driver_sql("INSERT INTO t VALUES ('first')")
        return "first"

    def insert(value: str, fail: bool = False):  # type: ignore[no-untyped-def]
        def work(conn: sa.Connection) -> str:
            conn.exec_driver_sql("INSERT INTO t VALUES (?)", (value,))
            if fail:
                raise ValueError("this unit fails")
            return value

        return work

    first = group.submit(blocker)
    started.wait()
    # queued while the first batch runs: they share the next one
    futures = [
        group.submit(insert("a")),
        group.submit(insert("b", True)),
        group.submit(insert("c")),
    ]
    release.set()
    assert first.result() == "first"
    assert futures[0].result() == "a" and futures[2].result() == "c"
    with pytest.raises(ValueError, match="this unit fails"):
        futures[1].result()
    with engine.connect() as conn:
        stored = {row[0] for row in conn.exec_driver_sql("SELECT v FROM t")}
    assert stored == {"first", "a", "c"}
    assert group.batches == 2


def _open(data_dir: Path) -> Charter:
    return Charter.open(Settings(data_dir=data_dir))


def test_a_change_is_refused_once_another_process_shreds_or_erases_the_subject(
    tmp_path: Path,
) -> None:
    Charter.init(tmp_path)
    serving, other = _open(tmp_path), _open(tmp_path)
    try:
        gate = serving.gate
        shredded = gate.create_subject("account", "de", actor="test").id
        erased = gate.create_subject("account", "de", actor="test").id
        for sid in (shredded, erased):  # both now placed in the serving process's cache
            gate.set_switches(sid, {"cloud.authorization": True}, source="user", actor="subject")
        shred_subject(other.gate, shredded, actor="admin")
        region = other.gate.subject(erased).region
        remove_subject(other.gate, erased, region, actor="admin")
        with pytest.raises(RefusedError) as refused:
            gate.set_switches(
                shredded, {"cloud.authorization": False}, source="user", actor="subject"
            )
        assert refused.value.code == "subject_inactive"
        with pytest.raises(NotFoundError):
            gate.set_switches(
                erased, {"cloud.authorization": False}, source="user", actor="subject"
            )
        assert gate.switches(shredded)["cloud.authorization"] is True  # nothing changed
    finally:
        serving.close()
        other.close()


def _held_batch(
    group: GroupCommit, units: list[Callable[[sa.Connection], object]]
) -> list[Future[object]]:
    """Queue ``units`` behind a unit that waits, so they all share the next batch."""
    started, release = threading.Event(), threading.Event()

    def blocker(_conn: sa.Connection) -> None:
        started.set()
        release.wait()

    first = group.submit(blocker)
    started.wait()
    futures = [group.submit(unit) for unit in units]
    release.set()
    first.result()
    for future in futures:
        future.exception()  # wait for every outcome
    return futures


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(
        st.tuples(
            st.lists(st.text("abc", min_size=1, max_size=3), max_size=3),  # the unit's rows
            st.sampled_from(["ok", "work fails", "finish fails"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_rows_left_for_the_batch_are_written_exactly_for_the_units_that_commit(
    tmp_path_factory: pytest.TempPathFactory, plan: list[tuple[list[str], str]]
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('g') / 'g.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE work (unit INTEGER)")
        conn.exec_driver_sql("CREATE TABLE rows (n INTEGER PRIMARY KEY, unit INTEGER, v TEXT)")
    finishes: list[int] = []

    def finish(conn: sa.Connection, rows: list[object]) -> None:
        finishes.append(len(rows))
        for unit, value, fails in rows:  # type: ignore[misc]
            if fails:
                raise ValueError("the finish of this unit fails")
            conn.exec_driver_sql("INSERT INTO rows (unit, v) VALUES (?, ?)", (unit, value))

    group = GroupCommit(lambda: engine, finish=finish)

    def unit(index: int, values: list[str], outcome: str) -> Callable[[sa.Connection], object]:
        def work(conn: sa.Connection) -> Batched[int]:
            conn.exec_driver_sql("INSERT INTO work VALUES (?)", (index,))
            if outcome == "work fails":
                raise ValueError("this unit fails")
            bad = outcome == "finish fails"
            rows = [(index, v, False) for v in values] + ([(index, "x", True)] if bad else [])
            return Batched(index, rows)

        return work

    futures = _held_batch(group, [unit(i, rows, outcome) for i, (rows, outcome) in enumerate(plan)])
    expected = [
        (i, value) for i, (rows, outcome) in enumerate(plan) if outcome == "ok" for value in rows
    ]
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("SELECT unit, v FROM rows ORDER BY n")]
        worked = [r[0] for r in conn.exec_driver_sql("SELECT unit FROM work ORDER BY rowid")]
    assert stored == expected  # in the units' order, none of a unit that rolled back
    assert worked == [i for i, (_, outcome) in enumerate(plan) if outcome == "ok"]
    for i, (_, outcome) in enumerate(plan):
        if outcome == "ok":
            assert futures[i].result() == i
        else:
            with pytest.raises(ValueError, match="fails"):
                futures[i].result()
    if all(outcome == "ok" for _, outcome in plan):  # one finish for the whole batch
        assert finishes == ([len(expected)] if expected else [])
    engine.dispose()


def test_a_unit_leaving_rows_needs_a_group_with_a_finish(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    group = GroupCommit(lambda: engine)
    with pytest.raises(TypeError, match="without finish"):
        group.run(lambda _conn: Batched(1, ["row"]))
    assert group.run(lambda _conn: Batched(2, [])) == 2  # nothing left: nothing to write


def test_concurrent_changes_number_each_history_and_chain_the_audit_log(
    tmp_path: Path,
) -> None:
    Charter.init(tmp_path)
    charter = _open(tmp_path)
    try:
        gate = charter.gate
        subjects = [gate.create_subject("account", "de", actor="test").id for _ in range(3)]
        plan = [
            (sid, {"cloud.authorization": bool(n % 2)} if n % 3 else
             {"cloud.authorization": True, "system.personalized_ads": bool(n % 2)})
            for n in range(12)
            for sid in subjects
        ]  # fmt: skip
        futures = [
            gate.submit_switches(sid, changes, source="user", actor="subject")
            for sid, changes in plan
        ]
        results = [future.result() for future in futures]
        assert all(
            changed == len(changes)
            for (_, changed), (_, changes) in zip(results, plan, strict=True)
        )
        for sid in subjects:
            history = gate.switch_history(sid)
            wanted = [(k, v) for s, changes in plan if s == sid for k, v in changes.items()]
            assert [(h.key, h.value) for h in history] == wanted
            region = gate.subject(sid).region
            with charter.stores.region(region).connect() as conn:
                ids = [
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT id FROM switch_history WHERE subject_id = ? ORDER BY id", (sid,)
                    )
                ]
            assert ids == list(range(1, len(wanted) + 1))
        reports = gate.journal.verify()
        assert all(report.ok for report in reports.values()), reports
        region = gate.subject(subjects[0]).region
        entries = [e for e in gate.journal.recent(charter.stores.region(region), 1000)]
        assert sum(e.action == "switch" for e in entries) == sum(len(c) for _, c in plan)
    finally:
        charter.close()
