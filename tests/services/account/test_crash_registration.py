"""T5 extended: a registration killed between the gate's records and the account rows, and
an audit append killed before its commit. Each is found and finished or rolled back with
0 orphans; the files stay intact and every audit chain verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from charter.app import Charter
from charter.config import Settings
from charter.crashpoints import ENV, POINTS
from charter.gate import Event
from charter.gate.journal import verify_chain
from charter.services.account.tables import accounts
from charter.store import schema as t
from charter.taxonomy import Purpose
from charter.testing import DAY, FakeClock

PASSWORD = "violet lantern quietly orbits"

WORKER = r"""
import sys
from pathlib import Path
from charter.app import Charter
from charter.config import Settings
from charter.gate import Event
from charter.taxonomy import Purpose
from charter.testing import FakeClock

job, data_dir, now = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
charter = Charter.open(Settings(data_dir=data_dir), clock=FakeClock(now))
if job == "register":
    charter.accounts.create("orphan@example.org", "violet lantern quietly orbits", "de")
else:
    event = Event(sys.argv[4], "cloud", "notes", Purpose.APP_FUNCTIONALITY, "never committed")
    charter.gate.collect([event], actor="t")
print("done", flush=True)
"""


def _killed_at(point: str, data_dir: Path, now: int, *args: str) -> None:
    assert point in POINTS
    done = subprocess.run(
        [sys.executable, "-c", WORKER, *args[:1], str(data_dir), str(now), *args[1:]],
        env={**os.environ, ENV: point},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-2000:])
    assert "done" not in done.stdout


def _intact(charter: Charter) -> None:
    for engine in (charter.stores.control(), charter.stores.region("eu")):
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            report = verify_chain(conn)
            assert report.ok, report.problems


@pytest.fixture
def deployment(tmp_path: Path) -> tuple[Path, FakeClock]:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    Charter.open(Settings(data_dir=data_dir)).close()
    return data_dir, FakeClock()


def test_a_registration_killed_halfway_leaves_no_orphan(deployment: tuple[Path, FakeClock]) -> None:
    data_dir, clock = deployment
    _killed_at("registration.subject_created", data_dir, clock.now, "register")
    charter = Charter.open(Settings(data_dir=data_dir), clock=clock)
    try:
        with charter.stores.control().connect() as conn:
            orphans = conn.execute(select(t.subject_directory.c.subject_id)).scalars().all()
            assert len(orphans) == 1  # the killed registration's subject, without an account
            assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 0
        assert charter.accounts.sweep_orphans() == 0  # too recent: maybe still in progress
        clock.advance(days=1)
        assert charter.accounts.sweep_orphans() == 1
        assert charter.accounts.sweep_orphans() == 0  # a rerun changes nothing
        report = charter.rights.verify_erasure(orphans[0], markers=["orphan@example.org"])
        assert report.clean, report.findings
        _intact(charter)
        again = charter.accounts.create("orphan@example.org", PASSWORD, "de")  # the address is free
        assert charter.accounts.status(again)["status"] == "active"
    finally:
        charter.close()


def test_an_audit_append_killed_before_commit_rolls_back(
    deployment: tuple[Path, FakeClock],
) -> None:
    data_dir, clock = deployment
    charter = Charter.open(Settings(data_dir=data_dir), clock=clock)
    subject = charter.gate.create_subject("account", "de").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    kept = Event(subject, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "kept")
    assert charter.gate.collect([kept], actor="t").accepted == 1
    with charter.stores.region("eu").connect() as conn:
        entries = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
    charter.close()
    clock.advance(micros=DAY // 24)
    _killed_at("audit.appended", data_dir, clock.now, "collect", subject)
    charter = Charter.open(Settings(data_dir=data_dir), clock=clock)
    try:
        _intact(charter)
        with charter.stores.region("eu").connect() as conn:
            assert (
                conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one() == entries
            )
            values = conn.execute(
                select(func.count()).select_from(t.records).where(t.records.c.subject_id == subject)
            ).scalar_one()
        assert values == 1  # the killed collect left neither its record nor its entry
        assert charter.gate.collect([kept], actor="t").accepted == 1  # and the chain goes on
        _intact(charter)
    finally:
        charter.close()
