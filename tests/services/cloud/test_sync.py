"""
Cloud sync (issue "Cloud", first step): two devices of one person over HTTP, and the sync
service in process, on SQLite and PostgreSQL.

Changes propagate through change tokens; a stale update gets 409 with both versions and
stores nothing; deletes go to the trash for the plan's window (restorable on its last day,
destroyed the day after), or at once for categories without a trash; emptying the trash is
immediate; no gate record outlives its item; another person never sees an item; quotas
refuse with the figures; no authorization, no sync.
"""

from __future__ import annotations

import base64
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from charter.app import Charter
from charter.errors import InputError, NotFoundError, RefusedError
from charter.services.cloud import PLANS, ConflictError
from charter.services.cloud.tables import accounts, items
from charter.store.schema import records
from charter.testing import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

DAY = 86_400


def person(charter: Charter, *, cloud: bool = True) -> str:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    if cloud:
        charter.gate.set_switches(
            subject, {"cloud.authorization": True}, source="user", actor="subject"
        )
    return subject


def live_records(charter: Charter, subject_id: str) -> int:
    region = charter.gate.subject(subject_id).region
    with charter.stores.region(region).connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(records)
                .where(
                    records.c.subject_id == subject_id,
                    records.c.service == "cloud",
                    records.c.data_type != "purchase_history",  # content records only
                )
            ).scalar_one()
        )


def device(charter: Charter, subject_id: str) -> dict[str, str]:
    token = charter.credentials.issue_user_token(subject_id, actor="test").secret
    return {"Authorization": f"Bearer {token}"}


def upload(api: TestClient, headers: dict[str, str], category: str, content: bytes) -> Any:
    return api.post(
        f"/v1/cloud/{category}/items",
        content=content,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def test_two_devices_sync_through_change_tokens(charter: Charter, api: TestClient) -> None:
    subject = person(charter)
    phone, tablet = device(charter, subject), device(charter, subject)
    start = api.get("/v1/cloud/changes", headers=tablet).json()
    assert start["changes"] == [] and not start["more"]
    note = upload(api, phone, "notes", b"buy bread").json()
    contact = upload(api, phone, "contacts", b"BEGIN:VCARD\nFN:Ana\nEND:VCARD").json()
    seen = api.get("/v1/cloud/changes", params={"since": start["token"]}, headers=tablet).json()
    assert [c["id"] for c in seen["changes"]] == [note["id"], contact["id"]]
    got = api.get(f"/v1/cloud/items/{note['id']}", headers=tablet)
    assert got.content == b"buy bread" and got.headers["etag"] == '"1"'
    edited = api.put(
        f"/v1/cloud/items/{note['id']}",
        content=b"buy bread and milk",
        headers={**tablet, "If-Match": '"1"', "Content-Type": "application/octet-stream"},
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    after = api.get("/v1/cloud/changes", params={"since": seen["token"]}, headers=phone).json()
    assert [(c["id"], c["version"]) for c in after["changes"]] == [(note["id"], 2)]
    quiet = api.get("/v1/cloud/changes", params={"since": after["token"]}, headers=phone).json()
    assert quiet == {"changes": [], "token": after["token"], "more": False}
    assert live_records(charter, subject) == 2  # the replaced version's record is gone


def test_a_stale_update_gets_both_versions_and_stores_nothing(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter)
    phone, tablet = device(charter, subject), device(charter, subject)
    note = upload(api, phone, "notes", b"v1").json()
    headers = {"If-Match": '"1"', "Content-Type": "application/octet-stream"}
    first = api.put(f"/v1/cloud/items/{note['id']}", content=b"phone", headers={**phone, **headers})
    assert first.status_code == 200
    lost = api.put(
        f"/v1/cloud/items/{note['id']}", content=b"tablet", headers={**tablet, **headers}
    )
    assert lost.status_code == 409
    body = lost.json()
    assert body["error"]["code"] == "version_conflict"
    assert body["current"]["version"] == 2
    assert base64.b64decode(body["current_content_b64"]) == b"phone"
    assert body["attempted_base_version"] == 1
    assert base64.b64decode(body["attempted_content_b64"]) == b"tablet"
    assert api.get(f"/v1/cloud/items/{note['id']}", headers=phone).content == b"phone"
    assert live_records(charter, subject) == 1
    missing = api.put(
        f"/v1/cloud/items/{note['id']}",
        content=b"x",
        headers={**phone, "Content-Type": "application/octet-stream"},
    )
    assert missing.status_code == 422  # If-Match is required


@pytest.mark.promise("cloud.trash_retention")
def test_trash_keeps_items_for_the_plan_window_then_destroys_them(
    charter: Charter, api: TestClient, clock: FakeClock
) -> None:
    subject = person(charter)
    for plan in ("free", "premium"):
        phone = device(charter, subject)
        charter.cloud.set_plan(subject, plan)
        days = PLANS[plan].trash_days
        kept = upload(api, phone, "gallery", b"\xff\xd8photo").json()
        gone = upload(api, phone, "gallery", b"\xff\xd8other").json()
        for item in (kept, gone):
            trashed = api.delete(f"/v1/cloud/items/{item['id']}", headers=phone).json()
            assert trashed["state"] == "trashed"
        clock.advance(days=days - 0.5)
        phone = device(charter, subject)  # a device's token lasts a day
        assert charter.cloud.purge_expired() == 0
        assert api.post(f"/v1/cloud/items/{kept['id']}/restore", headers=phone).status_code == 200
        assert api.get(f"/v1/cloud/items/{kept['id']}", headers=phone).content == b"\xff\xd8photo"
        clock.advance(days=1)
        phone = device(charter, subject)
        assert charter.cloud.purge_expired() == 1
        assert api.get(f"/v1/cloud/items/{gone['id']}", headers=phone).status_code == 404
        assert charter.cloud.item(subject, gone["id"]).state == "gone"
    assert live_records(charter, subject) == 2  # the two restored photos only


def test_emptying_the_trash_is_immediate_and_categories_without_trash_delete_at_once(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter)
    phone = device(charter, subject)
    note = upload(api, phone, "notes", b"n").json()
    wifi = upload(api, phone, "wifi", b'{"ssid": "home"}').json()
    assert api.delete(f"/v1/cloud/items/{wifi['id']}", headers=phone).json()["state"] == "gone"
    api.delete(f"/v1/cloud/items/{note['id']}", headers=phone)
    assert [i["id"] for i in api.get("/v1/cloud/trash", headers=phone).json()] == [note["id"]]
    assert api.delete("/v1/cloud/trash", headers=phone).json() == {"destroyed": 1}
    assert api.get("/v1/cloud/trash", headers=phone).json() == []
    assert live_records(charter, subject) == 0
    usage = api.get("/v1/cloud/usage", headers=phone).json()
    assert usage["used_bytes"] == 0 and usage["plan"] == "free" and usage["trash_days"] == 30
    changes = api.get("/v1/cloud/changes", headers=phone).json()["changes"]
    assert {(c["id"], c["state"]) for c in changes} == {(note["id"], "gone"), (wifi["id"], "gone")}


def test_another_person_never_reaches_an_item(charter: Charter, api: TestClient) -> None:
    owner, other = person(charter), person(charter)
    item = upload(api, device(charter, owner), "notes", b"secret").json()
    stranger = device(charter, other)
    assert api.get(f"/v1/cloud/items/{item['id']}", headers=stranger).status_code == 404
    assert api.delete(f"/v1/cloud/items/{item['id']}", headers=stranger).status_code == 404
    assert api.get("/v1/cloud/changes", headers=stranger).json()["changes"] == []
    service = charter.credentials.create_api_key("cloud").secret
    refused = api.get("/v1/cloud/changes", headers={"Authorization": f"Bearer {service}"})
    assert refused.status_code == 403


def test_no_authorization_no_sync_and_unknown_categories_are_named(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter, cloud=False)
    refused = upload(api, device(charter, subject), "notes", b"x")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_required"
    assert live_records(charter, subject) == 0
    with pytest.raises(InputError, match="use one of"):
        charter.cloud.upload(subject, "faxes", b"x")


def test_quota_is_refused_with_the_figures(charter: Charter, monkeypatch: Any) -> None:
    subject = person(charter)
    small = PLANS["free"].__class__("free", 10, 30)
    monkeypatch.setitem(PLANS, "free", small)
    charter.cloud.upload(subject, "notes", b"12345678")
    with pytest.raises(RefusedError, match="needs 5 bytes and 2 of the 10 bytes"):
        charter.cloud.upload(subject, "notes", b"12345")
    assert live_records(charter, subject) == 1


def test_deleting_the_account_leaves_no_cloud_rows_or_records(charter: Charter) -> None:
    subject = person(charter)
    item = charter.cloud.upload(subject, "notes", b"MARKERbyeNotes3")
    charter.cloud.upload(subject, "gallery", b"\xff\xd8p")
    charter.cloud.delete(subject, item.id)  # in the trash
    charter.rights.delete_account(subject, actor="test")
    with charter.stores.control().connect() as conn:
        for table in (items, accounts):
            left = conn.execute(
                select(func.count()).select_from(table).where(table.c.subject_id == subject)
            ).scalar_one()
            assert left == 0, table.name
    with pytest.raises(NotFoundError):
        charter.cloud.item(subject, item.id)
    report = charter.rights.verify_erasure(subject, markers=["MARKERbyeNotes3"])
    assert report.clean, report


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(["add", "edit", "delete", "restore"]), min_size=1, max_size=25))
def test_replaying_the_changes_rebuilds_the_server_state(
    charter: Charter, steps: list[str]
) -> None:
    """A device that applies every change since 0 ends with what the server holds, whatever
    the sequence of edits, deletions and restores."""
    subject = person(charter)
    ids: list[str] = []
    for step in steps:
        if step == "add" or not ids:
            ids.append(charter.cloud.upload(subject, "notes", step.encode()).id)
            continue
        target = ids[len(ids) // 2]
        current = charter.cloud.item(subject, target)
        try:
            if step == "edit" and current.state == "live":
                charter.cloud.upload(
                    subject, "notes", b"e", item_id=target, base_version=current.version
                )
            elif step == "delete" and current.state == "live":
                charter.cloud.delete(subject, target)
            elif step == "restore" and current.state == "trashed":
                charter.cloud.restore(subject, target)
        except ConflictError:  # pragma: no cover - one writer here
            raise
    mirror: dict[str, tuple[int, str]] = {}
    token, more = 0, True
    while more:
        found, token, more = charter.cloud.changes(subject, token, limit=3)
        for change in found:
            mirror[change.id] = (change.version, change.state)
    server = {
        i: (charter.cloud.item(subject, i).version, charter.cloud.item(subject, i).state)
        for i in ids
    }
    assert mirror == server


def test_charter_purge_destroys_expired_trash(tmp_path: Any) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from charter.cli import app as cli  # noqa: PLC0415
    from charter.config import Settings  # noqa: PLC0415

    data = tmp_path / "data"
    Charter.init(data)
    clock = FakeClock()
    charter = Charter.open(Settings(data_dir=data), clock=clock)
    subject = person(charter)
    item = charter.cloud.upload(subject, "notes", b"old")
    charter.cloud.delete(subject, item.id)
    with charter.stores.control().begin() as conn:  # its window ended long ago
        conn.execute(items.update().where(items.c.id == item.id).values(purge_at=1))
    charter.close()
    result = CliRunner().invoke(cli, ["purge", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "destroyed 1 cloud items" in result.output
    again = Charter.open(Settings(data_dir=data))
    try:
        assert again.cloud.item(subject, item.id).state == "gone"
        assert live_records(again, subject) == 0
    finally:
        again.close()


def test_staff_cli_sets_plans_and_shows_usage(tmp_path: Any) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from charter.cli import app as cli  # noqa: PLC0415
    from charter.config import Settings  # noqa: PLC0415

    data = tmp_path / "data"
    Charter.init(data)
    charter = Charter.open(Settings(data_dir=data))
    subject = person(charter)
    charter.cloud.upload(subject, "notes", b"12345")
    charter.close()
    runner = CliRunner()
    shown = runner.invoke(cli, ["cloud", "plans"])
    assert shown.exit_code == 0 and "premium" in shown.output and "180 days" in shown.output
    moved = runner.invoke(cli, ["cloud", "plan", subject, "plus", "--data-dir", str(data)])
    assert moved.exit_code == 0, moved.output
    usage = runner.invoke(cli, ["cloud", "usage", subject, "--data-dir", str(data)])
    assert "plan: plus" in usage.output and "used: 5 of" in usage.output
    bad = runner.invoke(cli, ["cloud", "plan", subject, "gold", "--data-dir", str(data)])
    assert bad.exit_code != 0
    purged = runner.invoke(cli, ["cloud", "purge", "--data-dir", str(data)])
    assert purged.exit_code == 0 and "destroyed 0 cloud items" in purged.output


def test_a_batch_creates_many_items_in_order_or_none(charter: Charter, api: TestClient) -> None:
    subject = person(charter)
    phone = device(charter, subject)
    cards = [f"BEGIN:VCARD\nFN:Person {n}\nEND:VCARD".encode() for n in range(250)]
    made = api.post(
        "/v1/cloud/contacts/batch",
        json={"items": [base64.b64encode(c).decode() for c in cards]},
        headers=phone,
    )
    assert made.status_code == 201, made.text
    created = made.json()
    assert len(created) == 250 and [c["change"] for c in created] == list(range(1, 251))
    assert api.get(f"/v1/cloud/items/{created[7]['id']}", headers=phone).content == cards[7]
    page = api.get("/v1/cloud/changes", params={"since": 240}, headers=phone).json()
    assert [c["id"] for c in page["changes"]] == [c["id"] for c in created[240:]]
    other = person(charter, cloud=False)
    refused = api.post(
        "/v1/cloud/contacts/batch", json={"items": ["eA=="]}, headers=device(charter, other)
    )
    assert refused.status_code == 403 and live_records(charter, other) == 0
    bad = api.post("/v1/cloud/contacts/batch", json={"items": ["not base64!"]}, headers=phone)
    assert bad.status_code == 422


@pytest.mark.promise("cloud.delete_on_sync_off")
def test_switching_off_wifi_sync_deletes_its_cloud_copy_at_once(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter)
    phone = device(charter, subject)
    wifi = upload(api, phone, "wifi", b'{"ssid": "home", "psk": "hunter22"}').json()
    upload(api, phone, "phrases", b"on my way")
    note = upload(api, phone, "notes", b"stays").json()
    off = api.put("/v1/cloud/categories/wifi", json={"sync": False}, headers=phone)
    assert off.status_code == 200 and off.json()["deleted"] == 1
    assert charter.cloud.item(subject, wifi["id"]).state == "gone"
    assert live_records(charter, subject) == 2  # the phrase and the note
    refused = upload(api, phone, "wifi", b'{"ssid": "cafe"}')
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "sync_off"
    notes_off = api.put("/v1/cloud/categories/notes", json={"sync": False}, headers=phone)
    assert notes_off.json()["deleted"] == 0  # notes keep their copy; sync only stops
    assert charter.cloud.item(subject, note["id"]).state == "live"
    listed = {c["category"]: c for c in api.get("/v1/cloud/categories", headers=phone).json()}
    assert listed["wifi"]["sync"] is False and listed["wifi"]["deletes_when_off"] is True
    assert listed["gallery"]["sync"] is True
    words = [e.text for e in charter.rights.activity.page(subject).entries]
    assert any("switched off cloud sync of wifi" in w and "1 cloud item" in w for w in words)
    on = api.put("/v1/cloud/categories/wifi", json={"sync": True}, headers=phone)
    assert on.status_code == 200
    assert upload(api, phone, "wifi", b'{"ssid": "cafe"}').status_code == 201
    report = charter.rights.verify_erasure(subject, markers=["hunter22"])
    assert not [f for f in report.findings if "hunter22" in f.needle], report
