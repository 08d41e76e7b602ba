"""App Vault over HTTP: display-only cards leave nothing anywhere the server writes; the News
card is tailored only with the person's switch on and only from the feed's own interactions;
analytics in aggregate only."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from charter.app import Charter
from charter.errors import InputError
from charter.gate import Event
from charter.services.aggregates.tables import counters
from charter.services.app_vault import render_cards
from charter.taxonomy import Purpose
from support.content_services import scan_all_written
from support.store_services import TestClient, marker_hits, person, service_headers

MARKER = "VAULT-MARKER-7f3c91"


def cards_with(marker: str) -> list[dict[str, object]]:
    return [
        {"kind": "shortcuts", "data": {"apps": [f"{marker}-app", "Camera"]}},
        {"kind": "note", "data": {"lines": [f"{marker} buy milk", "call Ana"]}},
        {"kind": "steps", "data": {"steps": 4200, "goal": 8000}},
        {"kind": "calendar", "data": {"events": [{"at": "09:30", "title": f"{marker} dentist"}]}},
    ]


@pytest.mark.promise("app_vault.local_only_cards", "app_vault.shortcuts_on_device")
def test_display_only_cards_are_never_stored(
    charter: Charter, api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, headers = person(charter, "de", authorize=("app_vault",))
    for who in (headers, {}):
        answer = api.post(
            "/v1/vault/cards/render",
            json={"cards": cards_with(MARKER)},
            headers=who,
            params={} if who else {"market": "de"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        shown = answer.json()
        assert [c["kind"] for c in shown] == ["shortcuts", "note", "steps", "calendar"]
        assert shown[0]["lines"] == [f"{MARKER}-app", "Camera"]
        assert shown[2]["lines"] == ["4200 steps", "52% of 8000"]
        assert shown[3]["lines"] == [f"09:30 {MARKER} dentist"]
    bad = api.post(
        "/v1/vault/cards/render",
        json={"cards": [{"kind": "note", "data": {"lines": [MARKER + "\x00"]}}]},
        headers=headers,
    )
    assert bad.status_code == 422 and MARKER not in bad.text
    assert marker_hits(charter, MARKER) == []
    assert MARKER not in caplog.text
    scanned, hits = scan_all_written(charter, api, headers, [MARKER], caplog.text)
    assert scanned > 0 and hits == []


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40))
def test_rendering_repeats_display_text_as_is_or_refuses_it(text: str) -> None:
    try:
        (card,) = render_cards([{"kind": "note", "data": {"lines": [text]}}])
    except InputError as exc:
        assert text not in exc.message or not text
        return
    assert card.lines == (text,)


@pytest.mark.promise("app_vault.news_personalization_scope")
def test_news_is_tailored_only_from_the_feeds_own_interactions(
    charter: Charter, api: TestClient
) -> None:
    subject, headers = person(charter, "de", authorize=("app_vault",))
    partner = charter.app_vault.partners["msn_com"]
    charter.gate.set_switches(
        subject, {"app_vault.personalization": False}, source="user", actor="subject"
    )
    feed = api.get("/v1/vault/news", headers=headers).json()
    assert feed["partner"] == "MSN.com" and feed["personalized"] is False
    untailored = [i["id"] for i in feed["items"]]
    off = api.post(
        "/v1/vault/news/interactions",
        json={"card": "news", "item_id": "msn_weather_2", "action": "open"},
        headers=headers,
    )
    assert off.status_code == 403 and off.json()["error"]["code"] == "personalization_off"
    assert list(partner.received) == []

    charter.gate.set_switches(
        subject, {"app_vault.personalization": True}, source="user", actor="subject"
    )
    for item in ("msn_weather_2", "msn_weather_1"):
        answer = api.post(
            "/v1/vault/news/interactions",
            json={"card": "news", "item_id": item, "action": "open"},
            headers=headers,
        )
        assert answer.status_code == 204, answer.text
    other = api.post(
        "/v1/vault/news/interactions",
        json={"card": "stocks", "item_id": "msn_business_1", "action": "open"},
        headers=headers,
    )
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_news_feed"
    # usage of another card that reached the gate some other way is never handed over
    charter.gate.collect(
        [
            Event(
                subject,
                "app_vault",
                "product_interaction",
                Purpose.PERSONALIZATION,
                {"item": "msn_sport_1", "action": "open"},
                source="stocks_card",
            )
        ],
        actor="test",
    )
    tailored = api.get("/v1/vault/news", headers=headers).json()
    assert tailored["personalized"] is True
    assert [i["topic"] for i in tailored["items"][:2]] == ["weather", "weather"]
    assert tailored["items"][2]["topic"] != "sport"
    assert [sorted(batch) for batch in partner.received] == [["msn_weather_1", "msn_weather_2"]]
    assert [i["id"] for i in tailored["items"]] != untailored

    anonymous = api.get("/v1/vault/news", params={"market": "ru"}).json()
    assert anonymous["partner"] == "Mail.ru" and anonymous["personalized"] is False
    unknown = api.post(
        "/v1/vault/news/interactions",
        json={"card": "news", "item_id": "mr_sport_1", "action": "open"},
        headers=headers,
    )
    assert unknown.status_code == 404


@pytest.mark.promise("app_vault.analytics_aggregated")
def test_vault_analytics_is_kept_only_as_counts(charter: Charter, api: TestClient) -> None:
    uxp = {"system.user_experience_program": True}
    first, one = person(charter, "de", switches=uxp)
    second, two = person(charter, "ru", switches=uxp)
    for headers in (one, two, one):
        answer = api.post(
            "/v1/vault/analytics", json={"module": "news_card", "event": "click"}, headers=headers
        )
        assert answer.json() == {"counted": True}
    tagged = api.post(
        "/v1/vault/analytics",
        json={"module": "news_card", "event": "click", "gaid": "x"},
        headers=one,
    )
    assert tagged.status_code == 422
    report = api.get("/v1/vault/analytics", headers=service_headers(charter, "app_vault")).json()
    assert [(c["module"], c["event"], c["count"]) for c in report] == [("news_card", "click", 3)]
    with charter.stores.control().connect() as conn:
        rows = repr(conn.execute(select(counters)).all())
    assert first not in rows and second not in rows
    themes = api.get("/v1/themes/analytics", headers=service_headers(charter, "themes")).json()
    assert themes == []
