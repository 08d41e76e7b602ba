"""
Each item, who touched my data, where it is kept, and staff-applied corrections, over the
API (in process), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rights_seeding import everything_on

from charter.app import Charter
from charter.asgi import create_app
from charter.gate import Event
from charter.gate.journal import Journal
from charter.taxonomy import Purpose
from charter.testing import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), raise_server_exceptions=False) as c:
        yield c


def _person(charter: Charter, market: str = "de") -> tuple[str, dict[str, str]]:
    subject = charter.gate.create_subject("account", market)
    everything_on(charter, subject.id)
    token = charter.credentials.issue_user_token(subject.id).secret
    return subject.id, {"Authorization": f"Bearer {token}"}


def _staff(charter: Charter) -> dict[str, str]:
    key = charter.credentials.create_api_key("privacy_center").secret
    return {"Authorization": f"Bearer {key}", "X-Staff-Member": "ana"}


def _notes(charter: Charter, clock: FakeClock, subject_id: str, n: int) -> list[str]:
    """``n`` cloud notes, one a second apart; their record ids, oldest first."""
    ids = []
    for i in range(n):
        item = charter.gate.collect(
            [Event(subject_id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, f"note {i}")],
            actor="service:cloud",
        ).items[0]
        assert item.record_id, item
        ids.append(item.record_id)
        clock.advance(seconds=1)
    return ids


def test_items_are_shown_newest_first_a_page_at_a_time(
    charter: Charter, clock: FakeClock, client: TestClient
) -> None:
    me, headers = _person(charter)
    ids = _notes(charter, clock, me, 5)
    seen: list[dict[str, object]] = []
    cursor = None
    for _ in range(4):
        params: dict[str, str | int] = {"service": "cloud", "data_type": "notes", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = client.get("/v1/me/records", params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        seen.extend(body["items"])
        cursor = body["next"]
        if cursor is None:
            break
    assert [i["id"] for i in seen] == list(reversed(ids))
    assert [i["value"] for i in seen] == [f"note {i}" for i in reversed(range(5))]
    first = seen[0]
    assert first["kind"] == "value" and first["correctable"] and first["deletable"]
    assert first["purposes"] == ["app_functionality"]
    assert first["functions"], "the catalog function that collects notes is named"
    assert first["expires_at"] is None
    assert body["counts"] == {"notes": 5}

    bad = client.get(
        "/v1/me/records", params={"service": "cloud", "cursor": "nonsense"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


def test_keyed_hashes_files_and_unstored_types_are_explained(
    charter: Charter, client: TestClient
) -> None:
    me, headers = _person(charter)
    result = charter.gate.collect(
        [
            Event(me, "themes", "gaid", Purpose.APP_FUNCTIONALITY, "ad-id-1"),
            Event(me, "cloud", "photos_videos", Purpose.APP_FUNCTIONALITY, blob=b"\x89PNGfile"),
        ],
        actor="service:device",
    )
    assert all(i.accepted for i in result.items), result
    themes = client.get("/v1/me/records", params={"service": "themes"}, headers=headers).json()
    (hashed,) = themes["items"]
    assert hashed["kind"] == "keyed_hash" and "ad-id-1" not in json.dumps(hashed)
    assert not hashed["correctable"] or hashed["kind"] == "value"
    cloud = client.get("/v1/me/records", params={"service": "cloud"}, headers=headers).json()
    (photo,) = cloud["items"]
    assert photo["kind"] == "file" and photo["file"] == f"/v1/me/records/{photo['id']}/file"
    got = client.get(photo["file"], headers=headers)
    assert got.status_code == 200 and got.content == b"\x89PNGfile"
    account = client.get("/v1/me/records", params={"service": "account"}, headers=headers).json()
    assert {n["data_type"] for n in account["not_stored"]} >= {"product_interaction"}


def test_one_item_is_deleted_and_only_that_one(
    charter: Charter, clock: FakeClock, client: TestClient
) -> None:
    me, headers = _person(charter)
    other, other_headers = _person(charter)
    ids = _notes(charter, clock, me, 3)
    theirs = _notes(charter, clock, other, 1)
    r = client.delete(f"/v1/me/records/{ids[1]}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["records"] == 1 and r.json()["by_service"] == {"cloud": 1}
    left = client.get("/v1/me/records", params={"service": "cloud"}, headers=headers).json()
    assert [i["id"] for i in left["items"]] == [ids[2], ids[0]]
    assert client.delete(f"/v1/me/records/{ids[1]}", headers=headers).status_code == 404
    assert client.delete(f"/v1/me/records/{theirs[0]}", headers=headers).status_code == 404
    assert client.get("/v1/me/records", params={"service": "cloud"}, headers=other_headers).json()[
        "counts"
    ] == {"notes": 1}
    email = charter.gate.collect(
        [Event(me, "account", "email_address", Purpose.APP_FUNCTIONALITY, "a@example.org")],
        actor="service:account",
    ).items[0]
    refused = client.delete(f"/v1/me/records/{email.record_id}", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "kept_with_account"
    texts = [e["text"] for e in client.get("/v1/me/activity", headers=headers).json()["entries"]]
    assert "You deleted one item of Xiaomi Cloud." in texts


def test_activity_says_who_touched_what_and_why(
    charter: Charter, clock: FakeClock, client: TestClient
) -> None:
    me, headers = _person(charter)
    other, _ = _person(charter)
    _notes(charter, clock, me, 2)
    _notes(charter, clock, other, 1)
    charter.gate.read(me, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="service:cloud")
    charter.gate.set_switches(
        me, {"themes.personalization": False}, source="privacy_center", actor="subject"
    )
    clock.advance(seconds=1)
    request = charter.rights.requests.file(me, "access")
    clock.advance(seconds=1)
    charter.staff.grant(charter.gate.create_subject("account", "de").id, "ana")  # staff only
    charter.rights.requests.assign(request.id, "ana")
    clock.advance(seconds=1)
    charter.rights.requests.close(request.id, "staff:ana", outcome="fulfilled")
    r = client.get("/v1/me/activity", headers=headers)
    assert r.status_code == 200, r.text
    texts = [e["text"] for e in r.json()["entries"]]
    assert texts[0] == "Privacy Center staff (ana) closed your access request."
    assert "Privacy Center staff (ana) took your access request." in texts
    assert "You filed an access request." in texts
    assert "You turned “Themes: personalized recommendations” off." in texts
    assert "Xiaomi Cloud read 2 of your Xiaomi Cloud records to make the service work." in texts
    collected = [t for t in texts if t.startswith("Xiaomi Cloud collected")]
    assert (
        collected
        == ["Xiaomi Cloud collected 1 × notes (Xiaomi Cloud, to make the service work)."] * 2
    )
    only_cloud = client.get("/v1/me/activity", params={"service": "cloud"}, headers=headers).json()
    assert only_cloud["entries"] and all("cloud" in e["services"] for e in only_cloud["entries"])
    assert len(only_cloud["entries"]) == 3  # two collects and one read
    export = client.post("/v1/me/exports", headers=headers)
    assert export.status_code == 201
    latest = client.get("/v1/me/activity", params={"limit": 3}, headers=headers).json()
    assert any(e["action"] == "export" for e in latest["entries"])


def test_a_collect_batch_of_many_people_is_in_each_persons_activity(
    charter: Charter, client: TestClient
) -> None:
    me, headers = _person(charter)
    other, other_headers = _person(charter)
    events = [Event(s, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "n") for s in (me, other, me)]
    charter.gate.collect(events, actor="service:cloud")
    mine = client.get("/v1/me/activity", params={"service": "cloud"}, headers=headers).json()
    theirs = client.get(
        "/v1/me/activity", params={"service": "cloud"}, headers=other_headers
    ).json()
    assert [e["text"] for e in mine["entries"]] == [
        "Xiaomi Cloud collected 2 × notes (Xiaomi Cloud, to make the service work)."
    ]
    assert [e["text"] for e in theirs["entries"]] == [
        "Xiaomi Cloud collected 1 × notes (Xiaomi Cloud, to make the service work)."
    ]
    assert all(r.ok for r in charter.journal.verify().values())


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(min_value=1, max_value=7), reads=st.integers(min_value=0, max_value=6))
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_activity_pages_cover_everything_once(
    charter: Charter, clock: FakeClock, limit: int, reads: int
) -> None:
    me = charter.gate.create_subject("account", "de").id
    everything_on(charter, me)
    for _ in range(reads):
        clock.advance(seconds=1)
        charter.gate.read(
            me, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="service:cloud"
        )
        charter.rights.requests.file(me, "access")
    everything = charter.rights.activity.page(me, limit=100).entries
    paged = []
    cursor = None
    while True:
        page = charter.rights.activity.page(me, cursor=cursor, limit=limit)
        paged.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == list(everything)
    assert [a.at for a in paged] == sorted((a.at for a in paged), reverse=True)


def test_activity_keeps_personal_data_out_of_the_log(charter: Charter) -> None:
    me = charter.gate.create_subject("account", "de").id
    everything_on(charter, me)
    charter.gate.collect(
        [Event(me, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "SECRET-NOTE-77")], actor="x"
    )
    region = charter.gate.subject(me).region
    entries = charter.journal.for_subject(charter.stores.region(region), me, limit=50)
    assert entries and all(
        e.subject_ref == Journal.subject_ref(charter.journal, me) for e in entries
    )
    assert all(me not in e.detail and "SECRET-NOTE-77" not in e.detail for e in entries)


def test_where_my_data_is_kept_in_the_api_and_the_export(
    charter: Charter, client: TestClient
) -> None:
    _me, headers = _person(charter, "de")
    r = client.get("/v1/me/residence", headers=headers)
    assert r.status_code == 200, r.text
    place = r.json()
    assert place["region"] == "eu" and place["market_name"] == "Germany"
    assert place["controller"] == "Xiaomi Technology Netherlands B.V."
    assert place["transfer_mechanism"] == "EU Standard Contractual Clauses"
    assert {"provider": "Alibaba Cloud", "locations": ["Singapore"]} in place["storage"]
    _india, india_headers = _person(charter, "in")
    other = client.get("/v1/me/residence", headers=india_headers).json()
    assert other["region"] == "india" and other["controller"] is None
    export = client.post("/v1/me/exports", headers=headers).json()
    archive = zipfile.ZipFile(io.BytesIO(client.get(export["download"]).content))
    manifest = json.loads(archive.read("export.json"))
    assert manifest["residence"] == [place]
    index = archive.read("index.html").decode()
    assert (
        "Xiaomi Technology Netherlands B.V." in index and "EU Standard Contractual Clauses" in index
    )


def test_staff_apply_a_requested_correction_by_fingerprint(
    charter: Charter, clock: FakeClock, client: TestClient
) -> None:
    me, headers = _person(charter)
    ids = _notes(charter, clock, me, 2)
    staff = _staff(charter)
    filed = client.post(
        "/v1/me/requests",
        json={"kind": "correct", "service": "cloud", "message": "My newest note is wrong."},
        headers=headers,
    ).json()
    found = client.get(
        f"/v1/staff/requests/{filed['id']}/correction-candidates", headers=staff
    ).json()
    assert [c["data_type"] for c in found] == ["notes", "notes"]
    assert all("note" not in json.dumps(c).replace('"notes"', "") for c in found)
    mine = client.get("/v1/me/records", params={"service": "cloud"}, headers=headers).json()
    newest = mine["items"][0]
    assert newest["id"] == ids[1] and newest["reference"] == found[0]["reference"]
    wrong = client.post(
        f"/v1/staff/requests/{filed['id']}/correction",
        json={"record": "0" * 16, "value": "x"},
        headers=staff,
    )
    assert wrong.status_code == 404
    r = client.post(
        f"/v1/staff/requests/{filed['id']}/correction",
        json={"record": newest["reference"], "value": "the right note"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert (
        done["record_ref"] == newest["reference"]
        and done["old_fingerprint"] != done["new_fingerprint"]
    )
    after = client.get("/v1/me/records", params={"service": "cloud"}, headers=headers).json()
    assert [i["value"] for i in after["items"]] == ["the right note", "note 0"]
    request = client.get("/v1/me/requests", headers=headers).json()
    closed = next(x for x in request if x["id"] == filed["id"])
    assert closed["state"] == "closed" and closed["outcome"] == "fulfilled"
    assert closed["result"]["new_fingerprint"] == done["new_fingerprint"]
    again = client.post(
        f"/v1/staff/requests/{filed['id']}/correction",
        json={"record": newest["reference"], "value": "again"},
        headers=staff,
    )
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_transition"
    texts = [e["text"] for e in client.get("/v1/me/activity", headers=headers).json()["entries"]]
    assert "Privacy Center staff (ana) corrected one notes item of Xiaomi Cloud." in texts
    access = client.post("/v1/me/requests", json={"kind": "access"}, headers=headers).json()
    not_correct = client.post(
        f"/v1/staff/requests/{access['id']}/correction",
        json={"record": newest["reference"], "value": "x"},
        headers=staff,
    )
    assert not_correct.status_code == 422
