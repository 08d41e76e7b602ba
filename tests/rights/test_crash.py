"""
T5 (reduced for CI): account erasure and export are SIGKILLed at instrumented points (after
a random number of progress lines read from the worker's stdout; no sleeps), then run
again: they finish, leave no orphans (no half-deleted subject, no key without a subject,
no blob without a row, no phantom export, no temporary file), the SQLite files pass
``integrity_check`` and every audit chain verifies.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from rights_seeding import everything_on
from sqlalchemy import func, select, text

from charter.app import Charter
from charter.config import Settings
from charter.gate import Event
from charter.gate.journal import verify_chain
from charter.policy import SubjectKind
from charter.rights import Rights
from charter.rights import tables as rt
from charter.store import schema as t
from charter.taxonomy import Purpose
from charter.testing import FakeClock

WORKER = r"""
import sys
from pathlib import Path
from charter.app import Charter
from charter.config import Settings
from charter.rights import Rights
from charter.rights.erasure import delete_account
from charter.testing import FakeClock

job, data_dir, now, subject = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
charter = Charter.open(Settings(data_dir=data_dir), clock=FakeClock(now))

def tick(step, n):
    print("progress", step, n, flush=True)

if job == "erase":
    delete_account(charter.gate, subject, batch=20, progress=tick)
else:
    Rights(charter.gate).exports.create(subject, progress=tick)
print("done", flush=True)
"""


def _run_killed(job: str, data_dir: Path, now: int, subject: str, kill_after: int) -> bool:
    seen = 0
    with subprocess.Popen(
        [sys.executable, "-c", WORKER, job, str(data_dir), str(now), subject],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("done"):
                proc.wait(timeout=60)
                return True
            seen += 1
            if seen >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
        code = proc.wait(timeout=60)
    # Ended by our SIGKILL, never by an error of its own (that would make the test vacuous).
    assert code == -signal.SIGKILL, f"the worker failed by itself (exit code {code})"
    return False


def _seed(charter: Charter, records: int) -> tuple[str, str]:
    gate = charter.gate
    victim = gate.create_subject(SubjectKind.ACCOUNT, "de")
    survivor = gate.create_subject(SubjectKind.ACCOUNT, "de")
    for s in (victim, survivor):
        everything_on(charter, s.id)
        events = [
            Event(s.id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, {"n": i}, source="phone")
            for i in range(records)
        ]
        events += [  # larger than INLINE_MAX: each blob is a file of its own
            Event(s.id, "cloud", "photos_videos", Purpose.APP_FUNCTIONALITY, None, blob=b"x" * 5000)
            for _ in range(10)
        ]
        assert gate.collect(events, actor="t").refused == 0
    return victim.id, survivor.id


def _assert_intact(charter: Charter) -> None:
    for engine in (charter.stores.control(), charter.stores.region("eu")):
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            report = verify_chain(conn)
            assert report.ok, report.problems


def _fresh(tmp_path: Path) -> tuple[Path, FakeClock, Charter]:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    clock = FakeClock()
    return data_dir, clock, Charter.open(Settings(data_dir=data_dir), clock=clock)


@pytest.mark.slow
@pytest.mark.parametrize("run", range(4))
def test_account_erasure_survives_kill_minus_9(tmp_path: Path, run: int) -> None:
    rng = random.Random(run)
    data_dir, clock, charter = _fresh(tmp_path)
    victim, survivor = _seed(charter, records=200)
    charter.close()
    finished = _run_killed("erase", data_dir, clock.now, victim, kill_after=rng.randint(1, 12))
    charter = Charter.open(Settings(data_dir=data_dir), clock=clock)
    rights = Rights(charter.gate)
    if not finished:
        assert rights.resume() == 1
    assert rights.resume() == 0  # a rerun changes nothing
    with charter.stores.region("eu").connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(t.records).where(t.records.c.subject_id == victim)
            ).scalar_one()
            == 0
        )
        assert conn.execute(select(t.subjects.c.id)).scalars().all() == [survivor]
        assert conn.execute(select(t.data_keys.c.subject_id)).scalars().all() == [survivor]
        blobs = set(
            conn.execute(select(t.records.c.blob).where(t.records.c.blob.is_not(None))).scalars()
        )
    on_disk = {
        str(p.relative_to(charter.stores.blob_dir("eu")))
        for p in charter.stores.blob_dir("eu").rglob("*")
        if p.is_file()
    }
    assert on_disk == blobs and len(blobs) == 10
    with charter.stores.control().connect() as conn:
        assert conn.execute(select(rt.jobs.c.state, rt.jobs.c.subject_id)).all() == [("done", None)]
        assert (
            conn.execute(
                select(func.count()).select_from(rt.requests).where(rt.requests.c.state != "closed")
            ).scalar_one()
            == 0
        )
        assert conn.execute(select(t.subject_directory.c.subject_id)).scalars().all() == [survivor]
    assert rights.verify_erasure(victim).clean
    assert (
        len(
            charter.gate.read(
                survivor, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="t"
            )
        )
        == 210
    )
    _assert_intact(charter)
    charter.close()


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))
def test_export_survives_kill_minus_9(tmp_path: Path, run: int) -> None:
    rng = random.Random(50 + run)
    data_dir, clock, charter = _fresh(tmp_path)
    victim, _survivor = _seed(charter, records=300)
    charter.close()
    _run_killed("export", data_dir, clock.now, victim, kill_after=rng.randint(1, 6))
    charter = Charter.open(Settings(data_dir=data_dir), clock=clock)
    rights = Rights(charter.gate)
    rights.resume()
    _rid, ticket = rights.export(victim)
    exports = charter.settings.data_dir / "exports"
    assert sorted(p.name for p in exports.iterdir()) == [f"{ticket.export_id}.zip"]
    with charter.stores.control().connect() as conn:
        assert conn.execute(select(rt.exports.c.id, rt.exports.c.state)).all() == [
            (ticket.export_id, "ready")
        ]
    assert b"".join(rights.download(ticket.token))[:2] == b"PK"
    _assert_intact(charter)
    charter.close()
