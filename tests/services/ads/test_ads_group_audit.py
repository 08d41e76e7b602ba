"""
Ad decisions read segments through the gate with their audit group-committed: every decision
(personalized or refused) leaves exactly one durable audit entry, concurrent decisions share
commits, the chain still verifies, and a failed append hands nothing out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from charter.app import Charter
from charter.gate.grouped import GroupAudit, read_grouped
from charter.store.schema import audit_log
from charter.taxonomy import Purpose
from support.telemetry import event, person

THREADS = 6
EACH = 10


@pytest.fixture
def gamer(charter: Charter) -> Iterator[tuple[str, str]]:
    subject = person(charter)
    charter.usage.events.submit(
        subject, "phone", [event("usage_sequence", "com.xiaomi.glgm")] * 2, actor="test"
    )
    assert charter.ads.refresh(subject) == {"games": 2}
    yield subject, charter.ads.new_id(subject, "phone")


def _entries(charter: Charter, subject: str, action: str) -> int:
    region = charter.gate.subject(subject).region
    ref = charter.gate.journal.subject_ref(subject)
    with charter.stores.region(region).connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    audit_log.c.subject_ref == ref,
                    audit_log.c.actor == "service:ads",
                    audit_log.c.action == action,
                )
            ).scalar_one()
        )


def test_every_concurrent_decision_is_audited_once(
    charter: Charter, gamer: tuple[str, str]
) -> None:
    subject, ad_id = gamer
    before = _entries(charter, subject, "use")
    commits = charter.ads.audit.commits
    barrier = threading.Barrier(THREADS)
    choices: list[bool] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=60)
            for n in range(EACH):
                choices.append(charter.ads.decide(subject, ad_id, f"slot{n}").personalized)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert choices == [True] * (THREADS * EACH)
    assert _entries(charter, subject, "use") - before == THREADS * EACH
    assert 1 <= charter.ads.audit.commits - commits <= THREADS * EACH
    assert all(r.ok for r in charter.gate.journal.verify().values())


def test_a_refused_read_is_audited_and_serves_a_general_ad(
    charter: Charter, gamer: tuple[str, str]
) -> None:
    subject, ad_id = gamer
    charter.gate.set_switches(
        subject, {"system.personalized_ads": False}, source="user", actor="subject"
    )
    before = _entries(charter, subject, "refuse")
    choice = charter.ads.decide(subject, ad_id, "feed")
    assert (choice.personalized, choice.why) == (False, "non-personalized: system_switch_off")
    assert _entries(charter, subject, "refuse") == before + 1


def test_a_failed_append_hands_nothing_out(charter: Charter, gamer: tuple[str, str]) -> None:
    subject, _ad_id = gamer

    class Broken(GroupAudit):
        """An audit whose database refuses the append."""

        def append(self, region: str, entries: list) -> None:  # type: ignore[type-arg]
            raise OSError("disk full")

    got: list[object] = []
    with pytest.raises(OSError, match="disk full"):
        got.append(
            read_grouped(
                charter.gate,
                Broken(charter.gate),
                [subject],
                service="advertisement",
                purpose=Purpose.ADVERTISING,
                actor="service:ads",
            )
        )
    assert got == []
