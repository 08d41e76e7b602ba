"""A subject's own items a page at a time: order, ties, cursors, and only the page decrypted."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from charter.app import Charter
from charter.errors import InputError, IntegrityError
from charter.gate import Event
from charter.gate.items import page_items
from charter.policy import SubjectKind
from charter.store import schema as t
from charter.taxonomy import Purpose
from charter.testing import FakeClock


def _subject(charter: Charter) -> str:
    s = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    charter.gate.set_switches(s.id, {"cloud.authorization": True}, source="user", actor="subject")
    return s.id


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(st.sampled_from([0, 0, 1]), min_size=0, max_size=25),
    limit=st.integers(min_value=1, max_value=8),
)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_pages_cover_every_item_once_newest_first(
    charter: Charter, clock: FakeClock, steps: list[int], limit: int
) -> None:
    """Items collected in the same microsecond (ties) page correctly too."""
    sid = _subject(charter)
    for i, step in enumerate(steps):
        clock.advance(seconds=step)
        charter.gate.collect(
            [Event(sid, "cloud", "notes", Purpose.APP_FUNCTIONALITY, f"n{i}")], actor="t"
        )
    subject = charter.gate.subject(sid)
    seen = []
    cursor = None
    while True:
        page = page_items(charter.gate, subject, service="cloud", cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(steps) == len({i.id for i in seen})
    keys = [(i.collected_at, i.id) for i in seen]
    assert keys == sorted(keys, reverse=True)
    assert sorted(i.value for i in seen) == sorted(f"n{i}" for i in range(len(steps)))


def test_only_the_page_shown_is_decrypted(charter: Charter, clock: FakeClock) -> None:
    sid = _subject(charter)
    ids = []
    for i in range(6):
        clock.advance(seconds=1)
        item = charter.gate.collect(
            [Event(sid, "cloud", "notes", Purpose.APP_FUNCTIONALITY, f"n{i}")], actor="t"
        ).items[0]
        ids.append(item.record_id)
    subject = charter.gate.subject(sid)
    # Ruin the ciphertext of the oldest item: decrypting it would fail.
    with charter.stores.region(subject.region).begin() as conn:
        conn.execute(update(t.records).where(t.records.c.id == ids[0]).values(value=b"garbage"))
    first = page_items(charter.gate, subject, service="cloud", limit=3)
    assert [i.value for i in first.items] == ["n5", "n4", "n3"]
    second = page_items(charter.gate, subject, service="cloud", cursor=first.next_cursor, limit=2)
    assert [i.value for i in second.items] == ["n2", "n1"] and second.next_cursor
    with pytest.raises(IntegrityError, match="encrypted value rejected"):  # it is on this page
        page_items(charter.gate, subject, service="cloud", cursor=second.next_cursor, limit=2)


def test_each_page_is_audited_and_bad_cursors_refused(charter: Charter) -> None:
    sid = _subject(charter)
    subject = charter.gate.subject(sid)
    page_items(charter.gate, subject, service="cloud")
    with charter.stores.region(subject.region).connect() as conn:
        actions = (
            conn.execute(
                select(t.audit_log.c.action).where(
                    t.audit_log.c.subject_ref == charter.gate.subject_ref(sid)
                )
            )
            .scalars()
            .all()
        )
    assert actions[-1] == "view"
    for bad in ("x", "1.zz", "12." + "g" * 32, "-1." + "0" * 32):
        with pytest.raises(InputError) as err:
            page_items(charter.gate, subject, service="cloud", cursor=bad)
        assert err.value.field == "cursor"
    with pytest.raises(InputError):
        page_items(charter.gate, subject, service="cloud", limit=0)
