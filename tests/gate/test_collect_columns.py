"""The collector's column path: an :class:`EventBatch` collects exactly as the same events in
a list, a :class:`BatchResult` reads the same from its items or its columns, and the data-key
ciphers reused across batches never outlive what the key's row says."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import delete, select, update

from charter.app import Charter
from charter.crypto import ENCRYPTION_LIMIT
from charter.errors import IntegrityError
from charter.gate import BatchResult, Event, EventBatch, ItemResult, Outcome
from charter.policy import SubjectKind
from charter.store import schema as t
from charter.taxonomy import Purpose

A, P = Purpose.APP_FUNCTIONALITY, Purpose.PERSONALIZATION
NOBODY = "s_" + "0" * 32


def _batch(events: list[Event]) -> EventBatch:
    assert len({e.service for e in events}) == 1
    return EventBatch(
        events[0].service,
        [e.subject_id for e in events],
        [e.data_type for e in events],
        [e.purpose for e in events],
        [e.value for e in events],
        [e.blob for e in events],
        [e.source for e in events],
    )


def test_an_event_batch_reads_like_the_list_of_its_events() -> None:
    events = [
        Event(NOBODY, "cloud", "notes", A, {"t": 1}),
        Event(NOBODY, "cloud", "contacts", P, None, b"blob", "device:1"),
        Event(NOBODY, "cloud", "notes", A, [1, 2], None, "device:2"),
    ]
    batch = _batch(events)
    assert len(batch) == 3
    assert list(batch) == events
    assert batch[1] == events[1] and batch[-1] == events[-1]
    assert batch[1:] == events[1:] and batch[::-1] == events[::-1]
    with pytest.raises(IndexError):
        batch[3]
    assert batch == _batch(events) and batch != _batch(events[:2])
    with pytest.raises(ValueError, match="one entry per event"):
        EventBatch("cloud", [NOBODY], ["notes"], [A], [None], [None, None], [None])


def test_a_batch_result_reads_the_same_from_items_or_columns() -> None:
    items = [
        ItemResult(0, True, "stored", "stored", "ab" * 16, True, 1_700_000_000_000_000),
        ItemResult(1, False, "consent_required", "no authorization"),
        ItemResult(2, True, "processed_not_stored", "processed, not stored"),
    ]
    by_items = BatchResult(items)
    by_columns = BatchResult(outcomes=by_items.outcomes, record_ids=by_items.record_ids)
    assert by_columns.items == items == by_items.items
    assert by_columns == by_items
    assert (by_columns.accepted, by_columns.refused) == (2, 1)
    assert BatchResult().items == [] and BatchResult().accepted == 0
    with pytest.raises(ValueError, match="event order"):
        BatchResult(items[1:])
    with pytest.raises(ValueError, match="one record id"):
        BatchResult(outcomes=[Outcome(False, "x", "y")], record_ids=[])
    with pytest.raises(ValueError, match="give the items"):
        BatchResult(items, outcomes=by_items.outcomes, record_ids=by_items.record_ids)


def _consenting(charter: Charter, market: str = "de") -> str:
    subject = charter.gate.create_subject(SubjectKind.ACCOUNT, market)
    charter.gate.set_switches(
        subject.id, {"cloud.authorization": True}, source="user", actor="subject"
    )
    return subject.id


def _mixed(ok: str, refused: str) -> list[Event]:
    """Stored, refused by consent, unknown subject, undeclared, a value no row can hold, a
    blob, a repeated subject: every way through the collector."""
    return [
        Event(ok, "cloud", "notes", A, {"title": "one"}),
        Event(refused, "cloud", "notes", A, {"title": "two"}),
        Event(NOBODY, "cloud", "notes", A, 3),
        Event(ok, "cloud", "no_such_type", A, 4),
        Event(ok, "cloud", "notes", A, math.nan),
        Event(ok, "cloud", "notes", A, {"title": "three"}, None, "device:7f3a"),
        Event(ok, "cloud", "notes", P, "personalised"),
        Event(ok, "cloud", "notes", A, None, b"\x00" * 40),
        Event(refused, "cloud", "notes", A, "again"),
        Event(ok, "cloud", "notes", A, ["last"]),
    ]


def _without_ids(result: BatchResult) -> list[tuple[object, ...]]:
    return [(o, rid is not None) for o, rid in zip(result.outcomes, result.record_ids, strict=True)]


def test_columns_collect_exactly_as_a_list_of_events(charter: Charter) -> None:
    gate = charter.gate
    listed_ok, columns_ok = _consenting(charter), _consenting(charter)
    refused = gate.create_subject(SubjectKind.ACCOUNT, "de").id
    listed = gate.collect(_mixed(listed_ok, refused), actor="service:cloud", service="cloud")
    columns = gate.collect(
        _batch(_mixed(columns_ok, refused)), actor="service:cloud", service="cloud"
    )
    assert _without_ids(listed) == _without_ids(columns)
    assert [i.reason for i in listed.items] == [
        "stored",
        "consent_required",
        "unknown_subject",
        "undeclared",
        "invalid_input",
        "stored",
        listed.items[6].reason,  # whatever the catalog says of notes for personalisation
        "stored",
        "consent_required",
        "stored",
    ]
    for sid in (listed_ok, columns_ok):
        values = [r.value for r in gate.read(sid, service="cloud", purpose=A, actor="t")]
        assert sorted(map(str, values)) == sorted(
            map(str, [{"title": "one"}, {"title": "three"}, None, ["last"]])
        )


def _key_row(charter: Charter, subject_id: str) -> tuple[bytes, int]:
    region = charter.gate.subject(subject_id).region
    with charter.stores.region(region).connect() as conn:
        row = conn.execute(
            select(t.data_keys.c.wrapped, t.data_keys.c.encryptions).where(
                t.data_keys.c.subject_id == subject_id
            )
        ).one()
    return bytes(row.wrapped), int(row.encryptions)


def _notes(subject_id: str, n: int) -> list[Event]:
    return [Event(subject_id, "cloud", "notes", A, {"n": i}) for i in range(n)]


def test_a_key_used_elsewhere_is_counted_from_its_row(charter: Charter) -> None:
    gate = charter.gate
    sid = _consenting(charter)
    gate.collect(_notes(sid, 3), actor="service:cloud")
    gate.collect(_notes(sid, 4), actor="service:cloud")
    assert _key_row(charter, sid)[1] == 7  # one cipher across both batches, counted in full
    # another process has used the key up to one short of its limit
    engine = charter.stores.region(gate.subject(sid).region)
    with engine.begin() as conn:
        conn.execute(
            update(t.data_keys)
            .where(t.data_keys.c.subject_id == sid)
            .values(encryptions=ENCRYPTION_LIMIT - 1)
        )
    with pytest.raises(IntegrityError) as info:
        gate.collect(_notes(sid, 2), actor="service:cloud")
    assert info.value.code == "key_usage_exhausted"
    assert _key_row(charter, sid)[1] == ENCRYPTION_LIMIT - 1
    with engine.connect() as conn:
        stored = conn.execute(select(t.records.c.id).where(t.records.c.subject_id == sid)).all()
    assert len(stored) == 7  # the refused batch left nothing behind


def test_a_key_replaced_elsewhere_is_never_used_from_memory(charter: Charter) -> None:
    gate = charter.gate
    sid = _consenting(charter)
    gate.collect(_notes(sid, 2), actor="service:cloud")
    first_key = _key_row(charter, sid)[0]
    # another process erases the subject's records and destroys the key, behind our back
    engine = charter.stores.region(gate.subject(sid).region)
    with engine.begin() as conn:
        conn.execute(delete(t.records).where(t.records.c.subject_id == sid))
        conn.execute(delete(t.data_keys).where(t.data_keys.c.subject_id == sid))
    gate.collect([Event(sid, "cloud", "notes", A, {"after": True})], actor="service:cloud")
    second_key, count = _key_row(charter, sid)
    assert second_key != first_key and count == 1
    values = [r.value for r in gate.read(sid, service="cloud", purpose=A, actor="t")]
    assert values == [{"after": True}]  # encrypted under the new key, not the remembered one
