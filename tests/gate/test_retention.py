"""Retention: records expire exactly on time (fake clock) and purge removes only expired ones."""

from __future__ import annotations

from sqlalchemy import func, select

from charter.app import Charter
from charter.gate import Event, jobs
from charter.policy import SubjectKind
from charter.store import schema as t
from charter.taxonomy import Purpose
from charter.testing import DAY, FakeClock


def _count(charter: Charter, region: str) -> int:
    with charter.stores.region(region).connect() as conn:
        return conn.execute(select(func.count()).select_from(t.records)).scalar_one()


def test_expiry_is_exact_and_purge_is_precise(charter: Charter, clock: FakeClock) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.APP_INSTANCE, "de")
    gate.set_switches(
        s.id,
        {"themes.authorization": True, "system.user_experience_program": True},
        source="user",
        actor="subject",
    )
    account = gate.create_subject(SubjectKind.ACCOUNT, "de")
    gate.set_switches(account.id, {"themes.authorization": True}, source="user", actor="subject")
    gate.collect(
        [Event(s.id, "themes", "crash_data", Purpose.ANALYTICS, "c1")], actor="t"
    )  # 90 days
    gate.collect(
        [Event(account.id, "themes", "search_history", Purpose.PERSONALIZATION, "q")], actor="t"
    )  # 180 days
    gate.collect(
        [Event(account.id, "themes", "favorite_resource_list", Purpose.APP_FUNCTIONALITY, "f")],
        actor="t",
    )  # until deleted
    clock.advance(days=90, micros=-1)
    assert len(gate.read(s.id, service="themes", purpose=Purpose.ANALYTICS, actor="t")) == 1
    assert jobs.purge_expired(gate).records == 0
    clock.advance(micros=1)
    assert gate.read(s.id, service="themes", purpose=Purpose.ANALYTICS, actor="t") == []
    assert jobs.purge_expired(gate).records == 1
    assert jobs.purge_expired(gate).records == 0  # idempotent
    clock.advance(days=90)
    assert jobs.purge_expired(gate).records == 1
    clock.advance(days=3650)
    assert jobs.purge_expired(gate).records == 0
    assert _count(charter, "eu") == 1


def test_daily_retention_over_simulated_days(charter: Charter, clock: FakeClock) -> None:
    """T16 (reduced): daily data for 200 days, daily purge; never overdue, never premature."""
    gate = charter.gate
    device = gate.create_subject(SubjectKind.APP_INSTANCE, "de")
    account = gate.create_subject(SubjectKind.ACCOUNT, "de")
    gate.set_switches(
        device.id,
        {"themes.authorization": True, "system.user_experience_program": True},
        source="user",
        actor="subject",
    )
    gate.set_switches(account.id, {"themes.authorization": True}, source="user", actor="subject")
    written: list[tuple[int, int]] = []  # (collected_at, retention days)
    for _day in range(200):
        gate.collect([Event(device.id, "themes", "crash_data", Purpose.ANALYTICS, "c")], actor="t")
        gate.collect(
            [Event(account.id, "themes", "search_history", Purpose.PERSONALIZATION, "q")], actor="t"
        )
        written += [(clock.now, 90), (clock.now, 180)]
        clock.advance(days=1)
        jobs.purge_expired(gate)
        alive = sum(1 for at, days in written if at + days * DAY > clock.now)
        assert _count(charter, "eu") == alive
