"""
Mi Video through HTTP, on SQLite and PostgreSQL: with local features only nothing but
analytics is taken; the history of local videos is refused whatever the mode; personalised
trending only in the catalog's markets (a refusal elsewhere, with the reason and promise).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from charter.app import Charter
from charter.store.schema import records
from support.content_services import TestClient, api_client, device, person, scan_written

ON = ("video.authorization", "video.personalization", "system.user_experience_program")


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    yield from api_client(charter)


def stored(charter: Charter, subject_id: str) -> int:
    region = charter.gate.subject(subject_id).region
    with charter.stores.region(region).connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(records)
                .where(records.c.subject_id == subject_id, records.c.service == "video")
            ).scalar_one()
        )


def watched(topic: str, purpose: str = "app_functionality") -> dict[str, object]:
    return {
        "type": "video_usage_data",
        "purpose": purpose,
        "value": {"video": "v1", "topic": topic},
    }


@pytest.mark.promise("video.local_use_analytics_only")
def test_local_features_only_take_nothing_but_analytics(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "de", *ON)
    phone = device(charter, subject)
    assert api.get("/v1/video/mode", headers=phone).json() == {"online": False}
    refused = api.post("/v1/video/events", json={"events": [watched("music")]}, headers=phone)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "local_features_only"
    counted = api.post(
        "/v1/video/analytics",
        json={"reports": [{"kind": "product_interaction", "module": "player", "event": "play"}]},
        headers=phone,
    )
    assert counted.json() == {"counted": 1}
    assert stored(charter, subject) == 0
    assert api.put("/v1/video/mode", json={"online": True}, headers=phone).json() == {
        "online": True
    }
    ok = api.post("/v1/video/events", json={"events": [watched("music")]}, headers=phone)
    assert ok.status_code == 200 and stored(charter, subject) == 1


@pytest.mark.promise("video.local_history_on_device")
def test_local_watch_history_is_refused(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "de", *ON)
    phone = device(charter, subject)
    api.put("/v1/video/mode", json={"online": True}, headers=phone).raise_for_status()
    marker = "holiday-" + secrets.token_hex(6) + ".mp4"
    response = api.post(
        "/v1/video/watch-history", json={"history": [{"file": marker}]}, headers=phone
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "on_device_only"
    assert marker not in response.text
    assert stored(charter, subject) == 0
    _scanned, hits = scan_written(charter, [marker])
    assert hits == []


@pytest.mark.promise("video.personalized_trending_markets")
def test_personalised_trending_only_in_the_catalog_markets(
    charter: Charter, api: TestClient
) -> None:
    germany = person(charter, "de", *ON)
    phone = device(charter, germany)
    api.put("/v1/video/mode", json={"online": True}, headers=phone).raise_for_status()
    refused = api.post(
        "/v1/video/events", json={"events": [watched("chess", "personalization")]}, headers=phone
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "market_unavailable"
    assert "video.personalized_trending_markets" in error["message"]
    assert stored(charter, germany) == 0
    api.post(
        "/v1/video/events", json={"events": [watched("chess")]}, headers=phone
    ).raise_for_status()
    trending = api.get("/v1/video/trending", headers=phone).json()
    assert trending["personalized"] is False and trending["reason"] == "market_unavailable"

    russia = person(charter, "ru", *ON)
    there = device(charter, russia)
    api.put("/v1/video/mode", json={"online": True}, headers=there).raise_for_status()
    events = [watched("chess", "personalization"), watched("chess", "personalization")]
    assert api.post("/v1/video/events", json={"events": events}, headers=there).json() == {
        "counted": 2
    }
    trending = api.get("/v1/video/trending", headers=there).json()
    assert trending == {"personalized": True, "topics": ["chess"], "reason": None}
    charter.gate.set_switches(
        russia, {"video.personalization": False}, source="user", actor="subject"
    )
    assert api.get("/v1/video/trending", headers=there).json()["reason"] == "personalization_off"
