"""Residency: an account in each market writes only to its region's database."""

from __future__ import annotations

from sqlalchemy import func, select

from charter.app import Charter
from charter.gate import Event
from charter.policy import SubjectKind
from charter.store import schema as t
from charter.taxonomy import Purpose


def test_each_market_writes_only_to_its_region(charter: Charter) -> None:
    gate = charter.gate
    expected: dict[str, set[str]] = {}
    for market in sorted(charter.catalog.markets):
        s = gate.create_subject(SubjectKind.ACCOUNT, market)
        gate.collect(
            [Event(s.id, "account", "country", Purpose.APP_FUNCTIONALITY, market)],
            actor="service:account",
        )
        expected.setdefault(charter.catalog.markets[market].region, set()).add(s.id)
    for region in charter.catalog.regions:
        with charter.stores.region(region).connect() as conn:
            owners = set(conn.execute(select(t.records.c.subject_id)).scalars())
            subjects = set(conn.execute(select(t.subjects.c.id)).scalars())
        assert owners == expected.get(region, set()), region
        assert subjects == expected.get(region, set()), region
    with charter.stores.control().connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.records)).scalar_one() == 0
