"""
Mi Browser through HTTP, on SQLite and PostgreSQL: the server never receives a visited URL
(every API whose types may not hold one refuses URL-like values with ``url_refused`` and
stores nothing; a marker scan of every file finds none), analytics only as released
aggregates, synced data never feeding the feed, sync only in the catalog's markets, clearing
history on every device once the person confirms, and the suggestion proxy's rules.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from charter.app import Charter
from charter.errors import RefusedError
from charter.services.aggregates.tables import counters
from charter.services.browser import FEED_SOURCES
from charter.store.schema import records
from charter.taxonomy import Purpose
from support.content_services import TestClient, api_client, device, person, scan_all_written

SYNC = ("cloud.authorization", "browser.authorization")
ANALYTICS = ("browser.authorization", "system.user_experience_program")


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    yield from api_client(charter)


def stored(charter: Charter, subject_id: str, service: str) -> int:
    region = charter.gate.subject(subject_id).region
    with charter.stores.region(region).connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(records)
                .where(records.c.subject_id == subject_id, records.c.service == service)
            ).scalar_one()
        )


def counter_rows(charter: Charter) -> int:
    with charter.stores.control().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(counters)).scalar_one())


def visited() -> str:
    return f"https://news-{secrets.token_hex(5)}.example.org/story/{secrets.token_hex(4)}"


@pytest.mark.promise("browser.no_url_collection")
def test_no_api_takes_a_visited_url(
    charter: Charter, api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    subject = person(charter, "de", *SYNC, *ANALYTICS, "browser.personalization")
    phone = device(charter, subject)
    urls = [visited() for _ in range(5)]
    host_only = urls[4].split("/")[2]
    attempts = [
        (
            "/v1/browser/analytics",
            {"reports": [{"kind": "product_interaction", "module": urls[0], "event": "open"}]},
            "reports[0].module",
        ),
        (
            "/v1/browser/feed/interactions",
            {"interactions": [{"content_id": "c1", "topic": urls[1], "action": "read"}]},
            "interactions[0].topic",
        ),
        (
            "/v1/browser/suggestions",
            {"text": urls[2], "incognito": False, "smart_address_bar": True},
            "text",
        ),
        (
            "/v1/browser/suggestions",
            {"text": host_only, "incognito": False, "smart_address_bar": True},
            "text",
        ),
    ]
    for path, body, field in attempts:
        response = api.post(path, json=body, headers=phone)
        assert response.status_code == 403, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "url_refused" and error["field"] == field
        assert urls[0] not in response.text and urls[1] not in response.text
    settings = api.put(
        "/v1/browser/sync/settings",
        json={"entries": {"search_engine": urls[3], "do_not_track": True}},
        headers=phone,
    )
    assert settings.status_code == 403 and settings.json()["error"]["code"] == "url_refused"
    assert stored(charter, subject, "browser") == 0 and stored(charter, subject, "cloud") == 0
    assert counter_rows(charter) == 0
    # names and counts are taken
    ok = api.put(
        "/v1/browser/sync/settings",
        json={"entries": {"search_engine": "bing", "do_not_track": True}},
        headers=phone,
    )
    assert ok.status_code == 200, ok.text
    scanned, hits = scan_all_written(charter, api, phone, [*urls, host_only], caplog.text)
    assert scanned > 0 and hits == []


@pytest.mark.promise("browser.analytics_aggregated")
def test_analytics_are_counters_released_only_in_aggregate(
    charter: Charter, api: TestClient
) -> None:
    people = [person(charter, "fr", *ANALYTICS) for _ in range(10)]
    for subject in people:
        body = {
            "reports": [
                {"kind": "product_interaction", "module": "feed", "event": "open", "value": 2}
            ]
        }
        assert api.post(
            "/v1/browser/analytics", json=body, headers=device(charter, subject)
        ).json() == {"counted": 1}
    lone = api.post(
        "/v1/browser/analytics",
        json={"reports": [{"kind": "crash_data", "module": "tabs", "event": "crash"}]},
        headers=device(charter, people[0]),
    )
    assert lone.status_code == 200
    key = {"Authorization": "Bearer " + charter.credentials.create_api_key("browser").secret}
    released = api.get("/v1/browser/analytics", headers=key).json()
    assert [(c["module"], c["event"], c["reports"], c["total"]) for c in released] == [
        ("feed", "open", 10, 20)
    ]  # the crash one person reported stays unreleased
    assert "subject_id" not in counters.c  # no row names anyone
    assert all(stored(charter, s, "browser") == 0 for s in people)
    # without the User Experience Program, nothing is counted
    off = person(charter, "fr", "browser.authorization")
    refused = api.post(
        "/v1/browser/analytics",
        json={"reports": [{"kind": "product_interaction", "module": "feed", "event": "open"}]},
        headers=device(charter, off),
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "system_switch_off"
    assert api.get("/v1/browser/analytics", headers=key).json()[0]["reports"] == 10
    person_token = api.get("/v1/browser/analytics", headers=device(charter, off))
    assert person_token.status_code == 403


@pytest.mark.promise("browser.synced_data_not_analysed")
def test_synced_history_never_feeds_the_feed(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "de", *SYNC, "browser.personalization")
    phone = device(charter, subject)
    history = [{"url": visited(), "title": "gardening tips", "visited_at": 1} for _ in range(3)]
    synced = api.put("/v1/browser/sync/history", json={"entries": history}, headers=phone)
    assert synced.status_code == 200, synced.text
    assert api.get("/v1/browser/sync/history", headers=phone).json()["entries"] == history
    feed = api.get("/v1/browser/feed", headers=phone).json()
    assert feed == {"personalized": False, "topics": feed["topics"], "reason": "no_interactions"}
    interactions = [
        {"content_id": f"c{i}", "topic": "football", "action": "read"} for i in range(2)
    ]
    assert api.post(
        "/v1/browser/feed/interactions", json={"interactions": interactions}, headers=phone
    ).json() == {"counted": 2}
    feed = api.get("/v1/browser/feed", headers=phone).json()
    assert feed["personalized"] and feed["topics"] == ["football"]
    assert all(service != "cloud" for service, _t in FEED_SOURCES)
    with pytest.raises(RefusedError) as refused:  # the gate refuses synced data to personalization
        charter.gate.read(
            subject, service="cloud", purpose=Purpose.PERSONALIZATION, actor="service:browser"
        )
    assert refused.value.code == "purpose_not_declared"
    # the switch off: the feed falls back to everyone's topics
    charter.gate.set_switches(
        subject, {"browser.personalization": False}, source="user", actor="subject"
    )
    assert api.get("/v1/browser/feed", headers=phone).json()["reason"] == "personalization_off"


@pytest.mark.promise("cloud.browser_sync_markets")
def test_history_syncs_only_where_the_catalog_allows(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "us", *SYNC)
    response = api.put(
        "/v1/browser/sync/bookmarks",
        json={"entries": [{"url": visited(), "title": "x"}]},
        headers=device(charter, subject),
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert (
        error["code"] == "market_unavailable" and "cloud.browser_sync_markets" in error["message"]
    )
    assert stored(charter, subject, "cloud") == 0


def test_clearing_history_with_sync_on_clears_the_other_devices_once_confirmed(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter, "de", *SYNC)
    for name in ("phone", "tablet", "laptop"):
        charter.rights.devices.register(subject, name)
    phone = device(charter, subject)
    api.put(
        "/v1/browser/sync/history",
        json={"entries": [{"url": visited(), "title": "t"}]},
        headers=phone,
    ).raise_for_status()
    asked = api.post("/v1/browser/history/clear", json={"device_id": "phone"}, headers=phone)
    assert asked.status_code == 403 and asked.json()["error"]["code"] == "confirmation_required"
    assert api.get("/v1/browser/sync/history", headers=phone).status_code == 200
    assert charter.rights.devices.pending(subject_id=subject) == []
    done = api.post(
        "/v1/browser/history/clear", json={"device_id": "phone", "confirm": True}, headers=phone
    ).json()
    assert done["synced"] is True and len(done["commands"]) == 2
    assert api.get("/v1/browser/sync/history", headers=phone).status_code == 404
    assert stored(charter, subject, "cloud") == 0
    pending = api.get("/v1/me/device-commands", headers=phone).json()
    assert sorted(c["device_id"] for c in pending) == ["laptop", "tablet"]
    assert {c["kind"] for c in pending} == {"clear_browser_history"}
    acked = api.post(f"/v1/me/device-commands/{pending[0]['id']}/ack", headers=phone)
    assert acked.status_code == 200
    assert len(api.get("/v1/me/device-commands", headers=phone).json()) == 1
    # sync off: nothing to tell the other devices
    alone = person(charter, "de", "browser.authorization")
    charter.rights.devices.register(alone, "tablet")
    quiet = api.post(
        "/v1/browser/history/clear",
        json={"device_id": "phone", "confirm": True},
        headers=device(charter, alone),
    ).json()
    assert quiet == {"synced": False, "commands": []}


@pytest.mark.promise(
    "browser.no_search_suggestions_in_incognito",
    "browser.suggestions_off_sends_nothing",
    "browser.suggestions_not_kept",
)
def test_suggestion_proxy_rules_and_it_keeps_nothing(
    charter: Charter, api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    subject = person(charter, "de")
    phone = device(charter, subject)
    engine = charter.browser.engine
    calls = engine.calls  # type: ignore[attr-defined]
    typed = "weather " + secrets.token_hex(6)

    def ask(**state: object) -> object:
        return api.post("/v1/browser/suggestions", json={"text": typed, **state}, headers=phone)

    incognito = ask(incognito=True, smart_address_bar=True)
    assert incognito.status_code == 403 and incognito.json()["error"]["code"] == "incognito"  # type: ignore[attr-defined]
    off = ask(incognito=False, smart_address_bar=False)
    assert off.json()["error"]["code"] == "smart_address_bar_off"  # type: ignore[attr-defined]
    assert engine.calls == calls  # type: ignore[attr-defined]  # the engine was never asked
    searched = ask(incognito=False, smart_address_bar=False, searching=True)
    assert searched.status_code == 200  # type: ignore[attr-defined]
    found = api.post(
        "/v1/browser/suggestions",
        json={"text": "wea", "incognito": False, "smart_address_bar": True},
        headers=phone,
    )
    assert found.json()["suggestions"][:2] == ["weather", "weather tomorrow"]
    assert found.headers["cache-control"] == "no-store"
    assert engine.calls == calls + 2  # type: ignore[attr-defined]
    scanned, hits = scan_all_written(charter, api, phone, [typed], caplog.text)
    assert scanned > 0 and hits == []
