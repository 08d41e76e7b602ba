"""Get Apps over HTTP: only in the catalog's markets; reviews public with the author's
nickname masked to everyone else; the Points Mall in India only; no personalised
recommendations in Spain. Every refusal with the reason a client sees."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.app import Charter
from charter.services.get_apps import mask_nickname
from charter.taxonomy import Purpose
from charter.testing import FakeClock
from support.store_services import TestClient, person

GET_APPS = ("get_apps",)


def refused(answer: httpx.Response, promise: str | None = None) -> str:
    body = answer.json()
    assert answer.status_code == 403, body
    assert body["error"]["code"] == "market_unavailable"
    if promise is not None:
        assert promise in body["error"]["message"]
    return str(body["error"]["message"])


def test_the_store_is_only_in_the_markets_the_catalog_names(
    charter: Charter, api: TestClient
) -> None:
    for market in ("in", "ru", "es", "id"):
        found = api.get("/v1/apps", params={"market": market})
        assert found.status_code == 200 and len(found.json()["apps"]) == 10
        assert all(a["audited"] for a in found.json()["apps"])
    message = refused(api.get("/v1/apps", params={"market": "de"}))
    assert "es, id, in, ru" in message
    _, german = person(charter, "de", authorize=GET_APPS)
    refused(api.post("/v1/apps/a_chess/installs", headers=german))
    refused(api.get("/v1/apps/a_chess/reviews", headers=german))
    refused(api.get("/v1/apps/installed", headers=german))


def test_installs_are_kept_through_the_gate(charter: Charter, api: TestClient) -> None:
    subject, headers = person(charter, "id")
    before = api.post("/v1/apps/a_chess/installs", headers=headers)
    assert before.status_code == 403 and before.json()["error"]["code"] == "consent_required"
    charter.gate.consents.record(subject, "get_apps", method="api")
    assert api.post("/v1/apps/a_chess/installs", headers=headers).status_code == 201
    assert api.post("/v1/apps/a_chess/installs", headers=headers).status_code == 201
    assert [a["id"] for a in api.get("/v1/apps/installed", headers=headers).json()] == ["a_chess"]
    records = charter.gate.read(
        subject,
        service="get_apps",
        purpose=Purpose.APP_FUNCTIONALITY,
        data_type="app_list",
        actor="test",
    )
    assert [r.value["app"] for r in records] == ["a_chess"]


@pytest.mark.promise("get_apps.masked_reviewer_names")
def test_a_review_is_public_with_the_nickname_masked_to_others(
    charter: Charter, api: TestClient
) -> None:
    author, mine = person(charter, "in", authorize=GET_APPS)
    _, other = person(charter, "in", authorize=GET_APPS)
    written = api.post(
        "/v1/apps/a_chess/reviews",
        json={"rating": 5, "text": "Great openings trainer", "nickname": "Priyanka"},
        headers=mine,
    )
    assert written.status_code == 201, written.text
    assert written.json()["nickname"] == "Priyanka"
    api.post(
        "/v1/apps/a_chess/reviews",
        json={"rating": 2, "text": "Too many ads", "nickname": "Ravi"},
        headers=other,
    )
    seen_by = {
        "anonymous": api.get("/v1/apps/a_chess/reviews", params={"market": "ru"}).json(),
        "other": api.get("/v1/apps/a_chess/reviews", headers=other).json(),
        "author": api.get("/v1/apps/a_chess/reviews", headers=mine).json(),
    }
    names = {
        who: {r["text"]: (r["nickname"], r["mine"]) for r in page["reviews"]}
        for who, page in seen_by.items()
    }
    assert names["anonymous"] == {
        "Great openings trainer": ("P******a", False),
        "Too many ads": ("R**i", False),
    }
    assert names["other"] == {
        "Great openings trainer": ("P******a", False),
        "Too many ads": ("Ravi", True),
    }
    assert names["author"]["Great openings trainer"] == ("Priyanka", True)
    assert "Priyanka" not in api.get("/v1/apps/a_chess/reviews", headers=other).text
    # the nickname is not in the service's table either: it is a gate record
    from charter.services.get_apps.tables import reviews  # noqa: PLC0415

    with charter.stores.control().connect() as conn:
        assert "Priyanka" not in repr(conn.execute(reviews.select()).all())
    own = seen_by["author"]["reviews"]
    review_id = next(r["id"] for r in own if r["mine"])
    assert api.delete(f"/v1/apps/reviews/{review_id}", headers=other).status_code == 404
    assert api.delete(f"/v1/apps/reviews/{review_id}", headers=mine).status_code == 204
    left = api.get("/v1/apps/a_chess/reviews", params={"market": "in"}).json()["reviews"]
    assert [r["text"] for r in left] == ["Too many ads"]
    assert (
        charter.gate.read(
            author,
            service="get_apps",
            purpose=Purpose.APP_FUNCTIONALITY,
            data_type="comments",
            actor="test",
        )
        == []
    )


def test_reviews_page_with_a_cursor_and_refuse_bad_input(
    charter: Charter, api: TestClient, clock: FakeClock
) -> None:
    _, headers = person(charter, "es", authorize=GET_APPS)
    for n in range(23):
        clock.advance(seconds=1)
        answer = api.post(
            "/v1/apps/a_maps/reviews",
            json={"rating": 1 + n % 5, "text": f"review {n}", "nickname": "Lucía"},
            headers=headers,
        )
        assert answer.status_code == 201
    first = api.get("/v1/apps/a_maps/reviews", params={"market": "es"}).json()
    assert len(first["reviews"]) == 20 and first["reviews"][0]["text"] == "review 22"
    rest = api.get(
        "/v1/apps/a_maps/reviews", params={"market": "es", "cursor": first["next_cursor"]}
    ).json()
    assert [r["text"] for r in rest["reviews"]] == ["review 2", "review 1", "review 0"]
    assert rest["next_cursor"] is None
    bad = api.post(
        "/v1/apps/a_maps/reviews", json={"rating": 9, "text": "x", "nickname": "L"}, headers=headers
    )
    assert bad.status_code == 422
    _, device = person(charter, "es", kind="app_instance", authorize=GET_APPS)
    anonymous = api.post(
        "/v1/apps/a_maps/reviews", json={"rating": 3, "text": "x", "nickname": "L"}, headers=device
    )
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "login_required"
    cursor = api.get("/v1/apps/a_maps/reviews", params={"market": "es", "cursor": "nope"})
    assert cursor.status_code == 422


@given(st.text(min_size=1, max_size=40))
def test_a_masked_nickname_shows_at_most_its_ends(nickname: str) -> None:
    masked = mask_nickname(nickname)
    assert len(masked) == len(nickname)
    if len(nickname) <= 2:
        assert set(masked) == {"*"}
    else:
        assert masked[0] == nickname[0] and masked[-1] == nickname[-1]
        assert set(masked[1:-1]) == {"*"}


@pytest.mark.promise("get_apps.points_mall_markets")
def test_the_points_mall_is_only_in_india(charter: Charter, api: TestClient) -> None:
    subject, indian = person(charter, "in", authorize=GET_APPS)
    assert api.get("/v1/apps", headers=indian).json()["points_mall_offered"] is True
    for app_id in ("a_chess", "a_maps", "a_radio", "a_notes", "a_tasks"):
        assert api.post(f"/v1/apps/{app_id}/installs", headers=indian).status_code == 201
    assert api.get("/v1/apps/points", headers=indian).json()["balance"] == 50
    short = api.post("/v1/apps/points/redeem", json={"prize": "data_voucher"}, headers=indian)
    assert short.status_code == 403 and short.json()["error"]["code"] == "not_enough_points"
    done = api.post("/v1/apps/points/redeem", json={"prize": "wallpaper_pack"}, headers=indian)
    assert done.status_code == 200 and done.json()["balance"] == 0
    kept = charter.gate.read(
        subject,
        service="get_apps",
        purpose=Purpose.APP_FUNCTIONALITY,
        data_type="points_redeem_records",
        actor="test",
    )
    assert [r.value for r in kept] == [{"prize": "wallpaper_pack", "points": 50}]
    for market in ("ru", "es", "id"):
        other, headers = person(charter, market, authorize=GET_APPS)
        assert api.get("/v1/apps", headers=headers).json()["points_mall_offered"] is False
        api.post("/v1/apps/a_chess/installs", headers=headers)
        refused(api.get("/v1/apps/points", headers=headers), "get_apps.points_mall_markets")
        refused(
            api.post("/v1/apps/points/redeem", json={"prize": "wallpaper_pack"}, headers=headers),
            "get_apps.points_mall_markets",
        )
        with charter.stores.control().connect() as conn:
            from charter.services.get_apps.tables import points  # noqa: PLC0415

            assert conn.execute(points.select().where(points.c.subject_id == other)).all() == []


@pytest.mark.promise("get_apps.recommendations_market_exclusion")
def test_no_personalised_recommendations_in_spain(charter: Charter, api: TestClient) -> None:
    spanish, es = person(charter, "es", authorize=GET_APPS)
    store = api.get("/v1/apps", headers=es).json()
    assert store["personalization_offered"] is False
    refused(
        api.get("/v1/apps/recommendations", headers=es), "get_apps.recommendations_market_exclusion"
    )
    refused(
        api.put("/v1/apps/personalization", json={"on": True}, headers=es),
        "get_apps.recommendations_market_exclusion",
    )
    # the gate refuses the data behind them there too
    assert api.post("/v1/apps/a_chess/installs", headers=es).status_code == 201
    from charter.errors import RefusedError  # noqa: PLC0415

    with pytest.raises(RefusedError) as caught:
        charter.gate.read(
            spanish, service="get_apps", purpose=Purpose.PERSONALIZATION, actor="service:get_apps"
        )
    assert caught.value.code == "market_unavailable"

    _, indian = person(charter, "in", authorize=GET_APPS)
    assert api.get("/v1/apps", headers=indian).json()["personalization_offered"] is True
    for app_id in ("a_chess", "a_puzzle"):
        api.post(f"/v1/apps/{app_id}/installs", headers=indian)
    assert api.put("/v1/apps/personalization", json={"on": False}, headers=indian).json() == {
        "on": False
    }
    plain = api.get("/v1/apps/recommendations", headers=indian).json()
    assert plain["personalized"] is False
    api.put("/v1/apps/personalization", json={"on": True}, headers=indian)
    tailored = api.get("/v1/apps/recommendations", headers=indian).json()
    assert tailored["personalized"] is True
    assert tailored["apps"][0] == {
        "id": "a_racer",
        "name": "Street Racer",
        "category": "games",
        "audited": True,
    }
