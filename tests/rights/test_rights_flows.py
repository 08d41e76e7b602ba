"""
Requests (G4) with their deadline alarm, correction (R2) reaching reads with the old value
gone from disk, deletion scopes (R3), withdrawal (R4) with device commands, consent
records and re-consent after a material change (G3), transparency report (G5).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from rights_seeding import everything_on, scan
from sqlalchemy import select

from charter.app import Charter
from charter.catalog import load_catalog
from charter.catalog.loader import builtin_catalog_path
from charter.errors import InputError, RefusedError
from charter.gate import Event
from charter.gate.journal import verify_chain
from charter.policy import SubjectKind
from charter.rights import ConsentBook, ConsentStatus, PolicyLibrary, RequestState, Rights
from charter.rights.transparency import render_csv, render_html
from charter.store import schema as t
from charter.taxonomy import Purpose
from charter.testing import FakeClock


def test_request_lifecycle_and_deadline_alarm(
    charter: Charter, rights: Rights, clock: FakeClock
) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    req = rights.requests.file(me.id, "access", message="Please send me everything.")
    assert req.state is RequestState.OPEN and req.has_message
    assert req.days_left(clock.now) == 30
    clock.advance(days=24)
    assert rights.requests.alarms() == []
    clock.advance(days=1, micros=1)  # day 25: five days left -> alarm, before day 30
    assert [r.id for r in rights.requests.alarms()] == [req.id]
    assert rights.requests.overdue() == []
    ana = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    charter.staff.grant(ana.id, "ana")
    rights = charter.rights  # the composition root's queue knows the staff
    rights.requests.assign(req.id, "ana")
    answered = rights.requests.answer(req.id, "ana", "Your export is ready.")
    assert answered.state is RequestState.ANSWERED and answered.has_answer
    texts = rights.requests.texts(req.id, actor="staff:ana")
    assert texts == {"message": "Please send me everything.", "answer": "Your export is ready."}
    closed = rights.requests.close(req.id, "staff:ana", outcome="fulfilled")
    assert closed.state is RequestState.CLOSED and closed.closed_at == clock.now
    with pytest.raises(InputError):
        rights.requests.assign(req.id, "bo")
    assert rights.requests.alarms() == []
    assert [s for _at, s, _a in rights.requests.history(req.id)] == [
        "open",
        "assigned",
        "answered",
        "closed",
    ]
    late = rights.requests.file(me.id, "complain", message="No answer yet.")
    clock.advance(days=30, micros=1)
    assert [r.id for r in rights.requests.overdue()] == [late.id]


def test_correction_reaches_reads_and_old_value_is_gone(
    charter: Charter, rights: Rights, backend: str
) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    old, new = "OLDNICK" + "a1b2c3d4e5f6", "NEWNICK" + "0f9e8d7c6b5a"
    res = charter.gate.collect(
        [Event(me.id, "account", "profile_data", Purpose.APP_FUNCTIONALITY, {"nickname": old})],
        actor="service:account",
    )
    record_id = res.items[0].record_id
    assert record_id is not None
    correction = rights.correct(me.id, record_id, {"nickname": new})
    assert correction.old_fingerprint != correction.new_fingerprint
    values = [
        r.value
        for r in charter.gate.read(
            me.id, service="account", purpose=Purpose.APP_FUNCTIONALITY, actor="t"
        )
    ]
    assert values == [{"nickname": new}]
    with charter.stores.region("eu").connect() as conn:
        details = list(
            conn.execute(
                select(t.audit_log.c.detail).where(t.audit_log.c.action == "correct")
            ).scalars()
        )
        assert verify_chain(conn).ok
    assert (
        len(details) == 1
        and correction.old_fingerprint in details[0]
        and old not in details[0]
        and new not in details[0]
    )
    if backend == "sqlite":
        assert scan(charter.settings.data_dir, [old])[1] == []
        assert scan(charter.settings.data_dir, [new])[1]


def test_correcting_derived_data_is_refused(charter: Charter, rights: Rights) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    everything_on(charter, me.id)
    res = charter.gate.collect(
        [Event(me.id, "themes", "search_history", Purpose.PERSONALIZATION, "query")], actor="t"
    )
    with pytest.raises(RefusedError):
        rights.correct(me.id, res.items[0].record_id or "", "other")


def test_deletion_scopes(charter: Charter, rights: Rights) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    everything_on(charter, me.id)
    events = [Event(me.id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, {"n": i}) for i in range(3)]
    events += [Event(me.id, "cloud", "calendar_events", Purpose.APP_FUNCTIONALITY, {"n": 1})]
    events += [
        Event(me.id, "themes", "favorite_resource_list", Purpose.APP_FUNCTIONALITY, {"n": 1})
    ]
    ids = [i.record_id for i in charter.gate.collect(events, actor="t").items]
    assert rights.erase(me.id, record_id=ids[0]).records == 1
    assert rights.erase(me.id, service="cloud", data_type="notes").records == 2
    assert rights.erase(me.id, service="cloud").by_service == {"cloud": 1}
    assert rights.erase(me.id).by_service == {"themes": 1}
    kinds = {r.kind.value for r in rights.requests.for_subject(me.id)}
    assert kinds == {"delete"}
    assert all(r.state is RequestState.CLOSED for r in rights.requests.for_subject(me.id))


def test_withdrawal_stops_collection_deletes_and_queues_device_commands(
    charter: Charter, rights: Rights
) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    rights.consents.record(me.id, "themes", method="privacy_center")
    rights.devices.register(me.id, "phone-2")
    res = charter.gate.collect(
        [
            Event(
                me.id,
                "themes",
                "favorite_resource_list",
                Purpose.APP_FUNCTIONALITY,
                {"id": 7},
                source="phone-1",
            )
        ],
        actor="t",
    )
    assert res.accepted == 1
    result = rights.withdraw(me.id, "themes")
    assert result.records == 1
    again = charter.gate.collect(
        [Event(me.id, "themes", "favorite_resource_list", Purpose.APP_FUNCTIONALITY, {"id": 8})],
        actor="t",
    )
    assert again.items[0].reason == "consent_required"
    pending = rights.devices.pending(subject_id=me.id)
    # "phone-1" is only a record's source, not an enrolled device: no command goes there
    assert {c.device_id for c in pending} == {"phone-2"} and {c.kind for c in pending} == {
        "delete_service_data"
    }
    rights.devices.ack(pending[0].id, device_id=pending[0].device_id)
    assert rights.devices.pending(subject_id=me.id) == []
    assert rights.consents.status(me.id, "themes").status is ConsentStatus.WITHDRAWN
    with pytest.raises(InputError):
        rights.withdraw(me.id, "account")  # no consent to withdraw


def _changed_catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(builtin_catalog_path(), folder)
    themes = folder / "themes.yaml"
    text = themes.read_text(encoding="utf-8")
    row = "  - {category: other_data, type: favorite_resource_list, qualifier: identified, purposes: [app_functionality, personalization], transit: [https], at_rest: plain, retention: until_deleted}\n"
    assert row in text
    themes.write_text(
        text.replace(
            row,
            row.replace(
                "[app_functionality, personalization]",
                "[app_functionality, personalization, advertising]",
            ),
        ),
        encoding="utf-8",
    )
    (folder / "policies" / "themes" / "2.md").write_text(
        "# Themes, version 2\n\nFavourites now also choose ads.\n", encoding="utf-8"
    )
    (folder / "policies" / "general" / "2.md").write_text(
        "# General policy, version 2\n\nClearer wording.\n", encoding="utf-8"
    )
    return folder


def test_material_change_requires_reconsent(
    charter: Charter, rights: Rights, tmp_path: Path
) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    assert rights.consents.needs_reconsent(me.id, "themes")  # first use
    rights.consents.record(me.id, "themes", method="privacy_center")
    rights.consents.record(me.id, "general", method="privacy_center")
    assert not rights.consents.needs_reconsent(me.id, "themes")
    assert charter.gate.switches(me.id)["themes.authorization"] is True
    folder = _changed_catalog(tmp_path)
    changed = ConsentBook(
        charter.gate, catalog=load_catalog(folder), policies=PolicyLibrary(folder)
    )
    notice = changed.status(me.id, "themes")
    assert (
        notice.status is ConsentStatus.RECONSENT_REQUIRED
        and notice.consented_version == 1
        and notice.current_version == 2
    )
    assert any("advertising" in c for c in notice.changes)
    assert changed.needs_reconsent(me.id, "themes")
    assert (
        changed.status(me.id, "general").status is ConsentStatus.UPDATED
    )  # wording only: a notice
    assert {n.scope for n in changed.notices(me.id)} >= {"themes", "general"}
    record = changed.record(me.id, "themes", method="privacy_center")
    assert record.version == 2 and not changed.needs_reconsent(me.id, "themes")
    proofs = changed.records(me.id)
    assert [p.version for p in proofs if p.scope == "themes"] == [1, 2]
    assert all(len(p.policy_hash) == 64 and p.method == "privacy_center" for p in proofs)


def test_transparency_report(charter: Charter, rights: Rights) -> None:
    reg = rights.register
    reg.add(
        received_on="2025-03-01",
        authority="Police <Nord>",
        country="DE",
        kind="user_data",
        accounts_affected=2,
        outcome="disclosed",
    )
    reg.add(
        received_on="2025-07-09",
        authority="Police <Nord>",
        country="de",
        kind="user_data",
        accounts_affected=1,
        outcome="rejected",
    )
    reg.add(
        received_on="2025-08-10",
        authority="Court",
        country="in",
        kind="preservation",
        accounts_affected=5,
        outcome="pending",
    )
    reg.add(
        received_on="2024-12-31",
        authority="Court",
        country="in",
        kind="emergency",
        accounts_affected=1,
        outcome="disclosed",
    )
    with pytest.raises(InputError):
        reg.add(
            received_on="2025-13-01",
            authority="X",
            country="de",
            kind="user_data",
            accounts_affected=1,
            outcome="disclosed",
        )
    report = reg.report(2025)
    assert report.total_requests == 3 and report.total_accounts == 8
    csv_text = render_csv(report)
    assert csv_text.splitlines()[1] == "2025,DE,user_data,2,3,1,0,1,0,0"
    html = render_html(report, deployment="Test")
    assert "Police &lt;Nord&gt;" in html and "<Nord>" not in html


def test_gate_refuses_collection_until_reconsent(
    charter: Charter, rights: Rights, tmp_path: Path
) -> None:
    """G3 enforced where data enters: after a material change, the gate refuses the service's
    collection for subjects who consented to the old declarations, until they consent again."""
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    rights.consents.record(me.id, "themes", method="privacy_center")
    event = Event(me.id, "themes", "favorite_resource_list", Purpose.APP_FUNCTIONALITY, "f1")
    assert charter.gate.collect([event], actor="t").items[0].accepted
    folder = _changed_catalog(tmp_path)
    changed = Charter.open(
        dataclasses.replace(charter.settings, catalog_path=folder),
        clock=charter.clock,
        keyring=charter.keyring,
    )
    try:
        refused = changed.gate.collect([event], actor="t").items[0]
        assert (refused.accepted, refused.reason) == (False, "reconsent_required")
        other = changed.gate.collect(
            [Event(me.id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "n")], actor="t"
        ).items[0]
        assert other.reason == "consent_required"  # unrelated services keep their own rules
        Rights(changed.gate).consents.record(me.id, "themes", method="privacy_center")
        assert changed.gate.collect([event], actor="t").items[0].accepted
    finally:
        changed.close()
