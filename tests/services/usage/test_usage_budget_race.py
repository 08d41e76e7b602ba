"""
The lifetime budget holds under concurrency: several releases started at once (threads of one
server, and separate processes, on SQLite and on PostgreSQL) never charge a person past the
cap. One person has one release left, one has never been charged (their ledger row does not
exist yet, so the releases meet on its insert), one is at the cap. No sleeps: the workers
start together at a barrier and are joined.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.app import Charter
from charter.services.usage.analytics import MICRO
from charter.services.usage.tables import budget
from charter.testing import FakeClock, empty_tables, settings_for
from support.telemetry import event, person, release_in_process

WORKERS = 4
PER_QUERY = 0.5
CAP = 1.0  # two releases per person, ever


@pytest.fixture
def tight(
    backend: str, tmp_path: Path, clock: FakeClock, pg_databases: dict[str, str]
) -> Iterator[Charter]:
    """A deployment whose settings tighten the budget to two releases per person."""
    databases = pg_databases if backend == "postgres" else None
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    settings = dataclasses.replace(
        settings_for(data_dir, databases),
        usage_epsilon_per_query=PER_QUERY,
        usage_lifetime_epsilon=CAP,
    )
    deployment = Charter.open(settings, clock=clock)
    if databases:
        empty_tables(deployment)
    yield deployment
    deployment.close()


def _people(charter: Charter) -> tuple[str, str, str]:
    ids = []
    for n in range(3):
        s = person(charter)
        charter.usage.events.submit(s, f"p{n}", [event("usage_sequence")], actor="test")
        ids.append(s)
    one_left, fresh, spent = ids
    # one_left: one release behind; spent: both releases behind (fresh is not yet a person)
    charter.usage.analytics.release_app_usage(actor="staff:test")
    with charter.stores.control().begin() as conn:
        conn.execute(budget.delete().where(budget.c.subject_id == fresh))
        conn.execute(
            budget.update()
            .where(budget.c.subject_id == spent)
            .values(spent_micro=round(CAP * MICRO), releases=2)
        )
    return one_left, fresh, spent


def _ledger(charter: Charter) -> dict[str, tuple[int, int]]:
    with charter.stores.control().connect() as conn:
        return {
            r.subject_id: (int(r.spent_micro), int(r.releases))
            for r in conn.execute(budget.select())
        }


def _check(charter: Charter, people: tuple[str, str, str], used: list[int]) -> None:
    one_left, fresh, spent = people
    cap = round(CAP * MICRO)
    ledger = _ledger(charter)
    assert ledger[one_left] == (cap, 2)  # exactly one of the racing releases charged them
    assert ledger[fresh] == (cap, 2)  # exactly two did
    assert ledger[spent] == (cap, 2)  # none did
    assert all(s <= cap for s, _ in ledger.values())
    assert sum(used) == 3  # 1 + 2 contributions in all
    assert len(used) == WORKERS


@pytest.mark.promise("app_usage_data.aggregated_analysis")
def test_concurrent_releases_in_threads_never_pass_the_cap(tight: Charter) -> None:
    people = _people(tight)
    barrier = threading.Barrier(WORKERS)
    used: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=60)
            used.append(tight.usage.analytics.release_app_usage(actor="staff:race").used)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    _check(tight, people, used)


@pytest.mark.promise("app_usage_data.aggregated_analysis")
def test_concurrent_releases_in_processes_never_pass_the_cap(tight: Charter) -> None:
    people = _people(tight)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    settings = dataclasses.replace(tight.settings)
    procs = [
        ctx.Process(
            target=release_in_process,
            args=(settings, FakeClock(tight.gate.clock()), barrier, results),
        )
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    used = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    _check(tight, people, used)
