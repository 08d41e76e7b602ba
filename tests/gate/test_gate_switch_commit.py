"""
Switch changes through the group commit: a failing unit of a shared batch rolls back alone
(the batch is retried with savepoints), and a change reads the subject's status inside its
own transaction, so a subject shredded or erased by another process is refused at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter.app import Charter
from charter.config import Settings
from charter.errors import NotFoundError, RefusedError
from charter.gate.erasure import remove_subject, shred_subject
from charter.store.groupcommit import GroupCommit


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
