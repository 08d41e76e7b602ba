"""POST /v1/collect: single and batch, per-item refusals, consent, malformed bodies."""

from __future__ import annotations

import base64

from api_support import Api

NOTE = {"data_type": "notes", "purpose": "app_functionality"}


def _cloud_subject(api: Api) -> tuple[dict[str, str], str]:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    api.switch(sid, {"cloud.authorization": True}, api.token(sid))
    return cloud, sid


def _records(api: Api, sid: str, headers: dict[str, str]) -> list[dict[str, object]]:
    response = api.client.get(
        f"/v1/subjects/{sid}/records", params={"purpose": "app_functionality"}, headers=headers
    )
    assert response.status_code == 200, response.text
    records: list[dict[str, object]] = response.json()["records"]
    return records


def test_collect_single_event_is_stored_and_readable(api: Api) -> None:
    cloud, sid = _cloud_subject(api)
    body = api.collect(
        [{"subject_id": sid, **NOTE, "value": {"title": "Shopping"}, "source": "device:7f3a"}],
        cloud,
    )
    assert body["accepted"] == 1
    assert body["refused"] == 0
    item = body["items"][0]
    assert item["accepted"] is True
    assert item["stored"] is True
    assert item["reason"] == "stored"
    assert item["expires_at"] is None
    records = _records(api, sid, cloud)
    assert [r["id"] for r in records] == [item["record_id"]]
    assert records[0]["value"] == {"title": "Shopping"}
    assert records[0]["source"] == "device:7f3a"


def test_batch_with_mixed_items_refuses_per_item_and_stores_nothing_for_refusals(api: Api) -> None:
    cloud, sid = _cloud_subject(api)
    unknown = "s_" + "0" * 32
    events = [
        {"subject_id": sid, **NOTE, "value": "kept 1"},
        {"subject_id": sid, "data_type": "notes", "purpose": "personalization", "value": "never"},
        {"subject_id": unknown, **NOTE, "value": "never"},
        {
            "subject_id": sid,
            "data_type": "no_such_type",
            "purpose": "app_functionality",
            "value": "never",
        },
        {"subject_id": sid, **NOTE, "value": "kept 2"},
    ]
    body = api.collect(events, cloud)
    assert (body["accepted"], body["refused"]) == (2, 3)
    assert [i["index"] for i in body["items"]] == [0, 1, 2, 3, 4]
    assert [i["accepted"] for i in body["items"]] == [True, False, False, False, True]
    assert body["items"][1]["reason"] == "undeclared"
    assert body["items"][2]["reason"] == "unknown_subject"
    assert body["items"][3]["reason"] == "undeclared"
    for item in body["items"]:
        assert (item["record_id"] is not None) is item["accepted"]
    values = sorted(str(r["value"]) for r in _records(api, sid, cloud))
    assert values == ["kept 1", "kept 2"]


def test_withdrawn_consent_refuses_collection_with_consent_required(api: Api) -> None:
    cloud, sid = _cloud_subject(api)
    assert api.collect([{"subject_id": sid, **NOTE, "value": "before"}], cloud)["accepted"] == 1
    api.switch(sid, {"cloud.authorization": False}, api.token(sid))
    body = api.collect([{"subject_id": sid, **NOTE, "value": "after"}], cloud)
    assert body["accepted"] == 0
    assert body["items"][0]["reason"] == "consent_required"
    assert body["items"][0]["record_id"] is None


def test_service_collects_only_for_itself(api: Api) -> None:
    _cloud, sid = _cloud_subject(api)
    # events name no service: the credential's (themes) is used, and it does not declare notes
    body = api.collect([{"subject_id": sid, **NOTE, "value": "x"}], api.key("themes"))
    assert body["items"][0]["accepted"] is False


def test_blob_is_stored_encrypted(api: Api) -> None:
    cloud, sid = _cloud_subject(api)
    blob = base64.b64encode(b"\x89PNG fake photo").decode()
    body = api.collect(
        [
            {
                "subject_id": sid,
                "data_type": "photos_videos",
                "purpose": "app_functionality",
                "blob_b64": blob,
            }
        ],
        cloud,
    )
    assert body["items"][0]["stored"] is True
    records = _records(api, sid, cloud)
    assert records[0]["has_blob"] is True


def test_malformed_batches_are_rejected_whole_with_the_field(api: Api) -> None:
    cloud, sid = _cloud_subject(api)
    cases = [
        ({"events": []}, "events"),
        ({"events": [{"subject_id": sid, "data_type": "notes"}]}, "events.0.purpose"),
        (
            {
                "events": [
                    {"subject_id": sid, **NOTE},
                    {"subject_id": sid, "data_type": "notes", "purpose": "spying"},
                ]
            },
            "events.1.purpose",
        ),
        ({"events": [{"subject_id": sid, **NOTE, "service": "pay"}]}, "events.0.service"),
        ({"events": [{"subject_id": sid, **NOTE, "blob_b64": "not base64!"}]}, "events.0.blob_b64"),
        ({}, "events"),
    ]
    for payload, field in cases:
        response = api.client.post("/v1/collect", json=payload, headers=cloud)
        assert response.status_code == 422, payload
        assert response.json()["error"]["field"] == field
    assert _records(api, sid, cloud) == []


def test_more_than_10000_events_is_422_and_huge_bodies_413(api: Api) -> None:
    cloud, sid = _cloud_subject(api)
    too_many = {"events": [{"subject_id": sid, **NOTE}] * 10_001}
    response = api.client.post("/v1/collect", json=too_many, headers=cloud)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "events"
    huge = b'{"events": [' + b" " * (33 << 20) + b"]}"
    response = api.client.post(
        "/v1/collect", content=huge, headers={**cloud, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_not_json_is_422(api: Api) -> None:
    cloud, _sid = _cloud_subject(api)
    response = api.client.post(
        "/v1/collect", content=b"{oops", headers={**cloud, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
