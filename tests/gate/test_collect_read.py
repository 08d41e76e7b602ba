"""Collect and read through the gate: consent, purpose limitation, protection, residency."""

from __future__ import annotations

import pytest

from charter.app import Charter
from charter.errors import InputError, RefusedError
from charter.gate import Event
from charter.policy import SubjectKind
from charter.taxonomy import Purpose

A, P, AN, AD = (
    Purpose.APP_FUNCTIONALITY,
    Purpose.PERSONALIZATION,
    Purpose.ANALYTICS,
    Purpose.ADVERTISING,
)


def test_consent_gates_collection_and_withdrawal_stops_it(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "de")
    note = Event(s.id, "cloud", "notes", A, {"text": "buy milk"})
    first = gate.collect([note], actor="service:cloud")
    assert first.items[0].reason == "consent_required"
    gate.set_switches(s.id, {"cloud.authorization": True}, source="user", actor="subject")
    ok = gate.collect([note], actor="service:cloud")
    assert ok.items[0].accepted and ok.items[0].stored
    assert [
        r.value for r in gate.read(s.id, service="cloud", purpose=A, actor="service:cloud")
    ] == [{"text": "buy milk"}]
    gate.set_switches(s.id, {"cloud.authorization": False}, source="user", actor="subject")
    assert gate.collect([note], actor="service:cloud").items[0].reason == "consent_required"
    with pytest.raises(RefusedError) as info:
        gate.read(s.id, service="cloud", purpose=A, actor="service:cloud")
    assert info.value.code == "consent_required"
    history = gate.switch_history(s.id)
    assert [(h.key, h.value) for h in history] == [
        ("cloud.authorization", True),
        ("cloud.authorization", False),
    ]


def test_batch_reports_each_item_and_stores_only_accepted(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "fr")
    gate.set_switches(s.id, {"themes.authorization": True}, source="user", actor="subject")
    events = [
        Event(s.id, "themes", "search_history", P, "wallpapers"),
        Event(s.id, "themes", "search_history", AD, "wallpapers"),  # undeclared purpose
        Event(s.id, "themes", "advertising_data", AD, {"ad": 1}),
        Event(s.id, "themes", "nonexistent", A, 1),
        Event("s_" + "0" * 32, "themes", "search_history", P, "x"),
    ]
    result = gate.collect(events, actor="service:themes")
    assert [i.accepted for i in result.items] == [True, False, True, False, False]
    assert [i.reason for i in result.items[1:2] + result.items[3:]] == [
        "undeclared",
        "undeclared",
        "unknown_subject",
    ]
    stored = gate.read(s.id, service="themes", purpose=P, actor="service:themes")
    assert [r.value for r in stored] == ["wallpapers"]


def test_personalization_switch_refuses_personalization_only(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "fr")
    gate.set_switches(
        s.id,
        {"themes.authorization": True, "themes.personalization": False},
        source="user",
        actor="subject",
    )
    res = gate.collect(
        [
            Event(s.id, "themes", "resource_download_record", P, "r1"),
            Event(s.id, "themes", "resource_download_record", A, "r2"),
        ],
        actor="service:themes",
    )
    assert [i.reason for i in res.items] == ["personalization_off", "stored"]


@pytest.mark.promise("advertisement.excluded_sources", "advertisement.no_user_content_for_ads")
def test_advertising_never_reads_cloud_or_pay_data(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "in")
    gate.set_switches(
        s.id,
        {"cloud.authorization": True, "pay.authorization": True},
        source="user",
        actor="subject",
    )
    gate.collect(
        [
            Event(s.id, "cloud", "photos_videos", A, {"name": "beach.jpg"}),
            Event(s.id, "pay", "upi_id", A, "someone@bank"),
        ],
        actor="admin",
    )
    for service in ("cloud", "pay"):
        with pytest.raises(RefusedError) as info:
            gate.read(s.id, service=service, purpose=AD, actor="service:advertisement")
        assert info.value.code == "source_refused"  # the promise refuses before the inventory
        assert "promise advertisement." in info.value.message


def test_pseudonymous_subjects_and_reset(charter: Charter) -> None:
    gate = charter.gate
    device = gate.create_subject(SubjectKind.APP_INSTANCE, "de")
    gate.set_switches(
        device.id,
        {"themes.authorization": True, "system.user_experience_program": True},
        source="device",
        actor="subject",
    )
    res = gate.collect(
        [Event(device.id, "themes", "crash_data", AN, {"trace": "x"})], actor="service:themes"
    )
    assert res.items[0].accepted
    assert res.items[0].expires_at == charter.clock() + 90 * 86_400_000_000
    fresh = gate.reset_pseudonym(device.id)
    assert fresh.id != device.id and fresh.kind is SubjectKind.APP_INSTANCE
    assert (
        gate.collect(
            [Event(device.id, "themes", "crash_data", AN, {"trace": "x"})], actor="service:themes"
        )
        .items[0]
        .reason
        == "subject_inactive"
    )
    with pytest.raises(InputError):
        gate.reset_pseudonym(gate.create_subject(SubjectKind.ACCOUNT, "de").id)


def test_not_stored_types_are_processed_not_written(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.APP_INSTANCE, "de")
    res = gate.collect(
        [Event(s.id, "account", "accelerometer_network", A, {"x": 0.12})], actor="service:account"
    )
    assert res.items[0].accepted and not res.items[0].stored and res.items[0].record_id is None
    assert gate.read(s.id, service="account", purpose=A, actor="service:account") == []


def test_keyed_hash_and_encryption_protections(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "de")
    gate.collect(
        [
            Event(s.id, "account", "android_id", A, "a1b2c3"),
            Event(s.id, "account", "email_address", A, "x@example.org"),
        ],
        actor="service:account",
    )
    values = {
        r.data_type: r.value
        for r in gate.read(s.id, service="account", purpose=A, actor="service:account")
    }
    assert values["email_address"] == "x@example.org"
    assert (
        set(values["android_id"]) == {"keyed_hash"}
        and len(values["android_id"]["keyed_hash"]) == 64
    )


def test_blobs_are_encrypted_and_readable(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "de")
    gate.set_switches(s.id, {"cloud.authorization": True}, source="user", actor="subject")
    payload = b"PHOTO-BYTES-" * 1000
    res = gate.collect(
        [Event(s.id, "cloud", "photos_videos", A, {"name": "p.jpg"}, blob=payload)],
        actor="service:cloud",
    )
    record_id = res.items[0].record_id
    assert record_id is not None
    files = [p for p in (charter.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(files) == 1 and b"PHOTO-BYTES" not in files[0].read_bytes()
    assert (
        gate.read_blob(s.id, record_id, service="cloud", purpose=A, actor="service:cloud")
        == payload
    )


def test_batch_limits(charter: Charter) -> None:
    with pytest.raises(InputError):
        charter.gate.collect([], actor="x")
    s = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    with pytest.raises(InputError):
        charter.gate.collect([Event(s.id, "cloud", "notes", A, "x")] * 10_001, actor="x")


def test_gpc_opts_out_of_personalized_ads(charter: Charter) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "us")
    assert gate.apply_gpc(s.id, actor="service:browser") is True
    assert gate.switches(s.id)["system.personalized_ads"] is False
    assert gate.apply_gpc(s.id, actor="service:browser") is False
    assert gate.switch_history(s.id)[-1].source == "gpc"
    res = gate.collect(
        [Event(s.id, "advertisement", "advertising_data", AD, {"ad": 7})],
        actor="service:advertisement",
    )
    assert res.items[0].reason == "system_switch_off"


def test_unknown_switch_and_market(charter: Charter) -> None:
    s = charter.gate.create_subject(SubjectKind.ACCOUNT, "de")
    with pytest.raises(InputError):
        charter.gate.set_switches(
            s.id, {"cloud.authorisation": True}, source="user", actor="subject"
        )
    with pytest.raises(InputError):
        charter.gate.create_subject(SubjectKind.ACCOUNT, "zz")


def test_withdrawal_deletes_server_data_when_declared(charter: Charter) -> None:
    gate = charter.gate
    effects = {
        s.id
        for s in charter.catalog
        if s.controls.consent
        and "delete_server_data" in {e.value for e in s.controls.consent.on_withdrawal}
    }
    assert effects, "the reference catalog declares deletion on withdrawal somewhere"
    service = sorted(effects)[0]
    row = charter.compiled.rows_for(service)[0]
    purpose = sorted(row.purposes)[0]
    market = "in" if charter.compiled.markets_by_service[service] else "de"
    kind = SubjectKind.ACCOUNT if row.qualifier.value == "identified" else SubjectKind.APP_INSTANCE
    s = gate.create_subject(kind, market)
    all_on = {
        k: True
        for k in charter.compiled.defaults
        if k.startswith(service + ".") or k.startswith("system.")
    }
    gate.set_switches(s.id, all_on, source="user", actor="subject")
    assert (
        gate.collect([Event(s.id, service, row.data_type, purpose, "v")], actor="admin")
        .items[0]
        .stored
    )
    gate.set_switches(s.id, {f"{service}.authorization": False}, source="user", actor="subject")
    gate.set_switches(s.id, {f"{service}.authorization": True}, source="user", actor="subject")
    assert gate.read(s.id, service=service, purpose=purpose, actor="admin") == []
