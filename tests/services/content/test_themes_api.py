"""Themes over HTTP: markets from the deployment's settings, favourites only when signed in,
the first-run choice recorded as consent, recommendations only as the choice allows, and
analytics in aggregate only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from charter.app import Charter
from charter.asgi import create_app
from charter.gate import Event
from charter.services.aggregates.tables import counters
from charter.store import schema as t
from charter.taxonomy import Purpose
from support.store_services import TestClient, person, service_headers


def choose(api: TestClient, headers: dict[str, str], personalized: bool) -> None:
    answer = api.post(
        "/v1/themes/first-run",
        json={"accept_terms": True, "personalized": personalized},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["asked"] is True


@pytest.mark.promise("themes.market_exclusion")
def test_markets_the_deployment_excludes_are_refused_with_the_reason(excluding: Charter) -> None:
    with TestClient(create_app(excluding), base_url="https://testserver") as api:
        refused = api.get("/v1/themes/resources", params={"market": "ru"})
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "market_unavailable"
        assert "themes.market_exclusion" in error["message"]
        assert api.get("/v1/themes/resources", params={"market": "de"}).status_code == 200
        subject, headers = person(excluding, "ru")
        answer = api.post(
            "/v1/themes/first-run",
            json={"accept_terms": True, "personalized": True},
            headers=headers,
        )
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "market_unavailable"
        assert api.put("/v1/themes/favorites/t_aurora", headers=headers).status_code == 403
        assert excluding.gate.consents.records(subject) == []
    # the gate refuses the service's data there too
    event = Event(subject, "themes", "favorite_resource_list", Purpose.APP_FUNCTIONALITY, "x")
    result = excluding.gate.collect([event], actor="test")
    assert result.items[0].reason == "market_unavailable"


def test_without_the_setting_every_market_is_served(api: TestClient) -> None:
    found = api.get("/v1/themes/resources", params={"market": "ru", "kind": "wallpaper"})
    assert found.status_code == 200
    assert {r["kind"] for r in found.json()} == {"wallpaper"}
    assert api.get("/v1/themes/resources").json()["error"]["field"] == "market"
    assert api.get("/v1/themes/resources", params={"market": "zz"}).status_code == 422


@pytest.mark.promise("themes.favorites_require_login")
def test_favourites_need_a_signed_in_account(charter: Charter, api: TestClient) -> None:
    anonymous = api.put("/v1/themes/favorites/t_aurora")
    assert anonymous.status_code == 403
    assert anonymous.json()["error"]["code"] == "login_required"
    assert api.get("/v1/themes/favorites").json()["error"]["code"] == "login_required"
    _, device = person(charter, "de", kind="app_instance")
    pseudonymous = api.put("/v1/themes/favorites/t_aurora", headers=device)
    assert pseudonymous.status_code == 403
    assert pseudonymous.json()["error"]["code"] == "login_required"
    subject, headers = person(charter, "de")
    before = api.put("/v1/themes/favorites/t_aurora", headers=headers)
    assert before.status_code == 403 and before.json()["error"]["code"] == "consent_required"
    choose(api, headers, personalized=False)
    assert api.put("/v1/themes/favorites/t_aurora", headers=headers).status_code == 200
    assert api.put("/v1/themes/favorites/w_fjord", headers=headers).status_code == 200
    assert api.put("/v1/themes/favorites/t_aurora", headers=headers).status_code == 200
    listed = api.get("/v1/themes/favorites", headers=headers).json()
    assert [r["id"] for r in listed] == ["t_aurora", "w_fjord"]
    records = charter.gate.read(
        subject, service="themes", purpose=Purpose.APP_FUNCTIONALITY, actor="test"
    )
    assert sorted(r.value["resource"] for r in records) == ["t_aurora", "w_fjord"]
    assert api.delete("/v1/themes/favorites/t_aurora", headers=headers).status_code == 204
    assert [r["id"] for r in api.get("/v1/themes/favorites", headers=headers).json()] == ["w_fjord"]
    assert (
        len(
            charter.gate.read(
                subject, service="themes", purpose=Purpose.APP_FUNCTIONALITY, actor="test"
            )
        )
        == 1
    )
    assert api.put("/v1/themes/favorites/x_nothing", headers=headers).status_code == 404


def test_a_purchase_is_recorded_against_the_account(charter: Charter, api: TestClient) -> None:
    subject, headers = person(charter, "in")
    assert api.post("/v1/themes/purchases/t_paper").json()["error"]["code"] == "login_required"
    choose(api, headers, personalized=False)
    bought = api.post("/v1/themes/purchases/t_paper", headers=headers)
    assert bought.status_code == 201 and bought.json()["price_cents"] == 199
    assert [r["id"] for r in api.get("/v1/themes/purchases", headers=headers).json()] == ["t_paper"]
    found = charter.gate.read(
        subject,
        service="themes",
        purpose=Purpose.APP_FUNCTIONALITY,
        data_type="resource_download_record",
        actor="test",
    )
    assert [r.value for r in found] == [{"resource": "t_paper"}]


@pytest.mark.promise("themes.first_run_personalization_choice")
def test_the_first_run_choice_is_asked_with_the_terms_and_recorded_as_consent(
    charter: Charter, api: TestClient
) -> None:
    subject, headers = person(charter, "de")
    asked = api.get("/v1/themes/first-run", headers=headers).json()
    assert asked["asked"] is False and asked["terms"].endswith("/policies/themes")
    refused = api.post(
        "/v1/themes/first-run", json={"accept_terms": False, "personalized": True}, headers=headers
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "accept_terms"
    assert charter.gate.consents.records(subject) == []
    choose(api, headers, personalized=False)
    (record,) = charter.gate.consents.records(subject)
    assert (record.scope, record.method) == ("themes", "device_first_run")
    switches = charter.gate.switches(subject)
    assert switches["themes.authorization"] is True
    assert switches["themes.personalization"] is False
    assert api.get("/v1/themes/first-run", headers=headers).json() == {
        **asked,
        "asked": True,
        "personalized": False,
    }


def test_recommendations_use_only_what_the_choice_allows(charter: Charter, api: TestClient) -> None:
    declined, no = person(charter, "de")
    choose(api, no, personalized=False)
    accepted, yes = person(charter, "de")
    choose(api, yes, personalized=True)
    for headers in (no, yes):
        assert api.put("/v1/themes/favorites/w_forest", headers=headers).status_code == 200
        assert api.get("/v1/themes/resources/t_neon", headers=headers).status_code == 200
    plain = api.get("/v1/themes/recommendations", headers=no).json()
    assert plain["personalized"] is False and plain["basis"] == []
    # with the choice declined, the view was not kept for personalization
    r = t.records
    with charter.stores.region(charter.gate.subject(declined).region).connect() as conn:
        kinds = (
            conn.execute(
                select(r.c.data_type).where(r.c.subject_id == declined, r.c.service == "themes")
            )
            .scalars()
            .all()
        )
    assert kinds == ["favorite_resource_list"]
    tailored = api.get("/v1/themes/recommendations", headers=yes).json()
    assert tailored["personalized"] is True
    assert tailored["basis"] == ["favorite_resource_list", "product_interaction"]
    ids = [x["id"] for x in tailored["resources"]]
    assert "w_forest" not in ids and "t_neon" not in ids
    assert ids[0] in {"t_aurora", "w_skyline"}  # dark or nature, like what they chose
    # switching personalization off later stops it at once
    charter.gate.set_switches(
        accepted, {"themes.personalization": False}, source="user", actor="subject"
    )
    assert api.get("/v1/themes/recommendations", headers=yes).json()["personalized"] is False
    anonymous = api.get("/v1/themes/recommendations", params={"market": "de"}).json()
    assert anonymous["personalized"] is False


@pytest.mark.promise("themes.analytics_aggregated")
def test_analytics_is_kept_only_as_counts(charter: Charter, api: TestClient) -> None:
    uxp = {"system.user_experience_program": True}
    first, one = person(charter, "de", switches=uxp)
    second, two = person(charter, "in", switches=uxp)
    _, off = person(charter, "de")  # the programme is off unless the person joins it
    body = {"module": "wallpapers_home", "event": "page_view"}
    for headers in (one, two, {}):
        answer = api.post("/v1/themes/analytics", json=body, headers=headers)
        assert answer.json() == {"counted": True}
    assert api.post("/v1/themes/analytics", json=body, headers=off).json() == {"counted": False}
    tagged = api.post("/v1/themes/analytics", json={**body, "subject_id": "s_1"}, headers=one)
    assert tagged.status_code == 422
    assert api.get("/v1/themes/analytics", headers=one).status_code == 403
    report = api.get("/v1/themes/analytics", headers=service_headers(charter, "themes")).json()
    assert [(c["module"], c["event"], c["count"]) for c in report] == [
        ("wallpapers_home", "page_view", 3)
    ]
    assert set(counters.c.keys()) == {
        "service", "day", "kind", "module", "event", "reports", "total"
    }  # fmt: skip
    with charter.stores.control().connect() as conn:
        rows = conn.execute(select(counters)).all()
    assert len(rows) == 1
    assert first not in repr(rows) and second not in repr(rows)
