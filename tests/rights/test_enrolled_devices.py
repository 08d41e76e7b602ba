"""
Devices are what enrolled as devices (issue 11: withdrawing a service listed "login" as a
device, with a delete command that could never be confirmed, because record sources were
taken for devices). A signed-in account's device gets the command; "login" and other
record sources do not; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from charter.app import Charter
from charter.gate import Event
from charter.services.account import FAST_FOR_TESTS, AccountService, HashingGate, MemorySender
from charter.store import schema as t
from charter.taxonomy import Purpose
from support.accounts import make_account


def test_only_enrolled_devices_get_commands(charter: Charter) -> None:
    sender = MemorySender()
    accounts = AccountService(
        charter.gate, sender=sender, profile=FAST_FOR_TESTS, hashing=HashingGate(slots=2, queue=8)
    )
    person = make_account(accounts, sender, "device.check@example.org")
    sid = person.id
    region = charter.gate.subject(sid).region
    with charter.stores.region(region).connect() as conn:
        sources = set(
            conn.execute(
                t.records.select()
                .with_only_columns(t.records.c.source)
                .where(t.records.c.subject_id == sid)
            ).scalars()
        )
    assert "login" in sources  # the defect's starting point: a record source that is no device
    enrolled = accounts.device_ids(sid)
    assert len(enrolled) == 1

    charter.rights.consents.record(sid, "themes", method="privacy_center")
    charter.gate.set_switches(sid, {"themes.authorization": True}, source="user", actor="subject")
    charter.gate.collect(
        [
            Event(
                sid,
                "themes",
                "favorite_resource_list",
                Purpose.APP_FUNCTIONALITY,
                {"id": 1},
                source="some-collector",
            )
        ],
        actor="t",
    )
    assert charter.rights.devices.devices(sid) == enrolled
    result = charter.rights.withdraw(sid, "themes")
    pending = charter.rights.devices.pending(subject_id=sid)
    assert [c.device_id for c in pending] == enrolled
    assert len(result.device_commands) == 1
    acked = charter.rights.devices.ack(pending[0].id, subject_id=sid)  # confirmable
    assert acked.acked_at is not None
