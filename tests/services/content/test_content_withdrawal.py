"""What a person withdraws or deletes leaves the content services too: withdrawing Get Apps'
authorization erases its records at the gate, and the store's listings, reviews and points
follow; deleting the account removes every row of the services' tables."""

from __future__ import annotations

from sqlalchemy import Table, select

from charter.app import Charter
from charter.services.get_apps.tables import installs, reviews
from charter.services.themes.tables import favorites
from support.store_services import TestClient, person


def rows_of(charter: Charter, table: Table, subject: str) -> list[object]:
    with charter.stores.control().connect() as conn:
        return list(conn.execute(select(table).where(table.c.subject_id == subject)).all())


def test_withdrawing_get_apps_takes_installs_reviews_and_points(
    charter: Charter, api: TestClient
) -> None:
    subject, headers = person(charter, "in", authorize=("get_apps",))
    for app_id in ("a_chess", "a_maps"):
        assert api.post(f"/v1/apps/{app_id}/installs", headers=headers).status_code == 201
    review = {"rating": 4, "text": "Solid", "nickname": "Meera"}
    assert api.post("/v1/apps/a_chess/reviews", json=review, headers=headers).status_code == 201
    assert api.get("/v1/apps/points", headers=headers).json()["balance"] == 40
    charter.rights.withdraw(subject, "get_apps")
    assert api.get("/v1/apps/installed", headers=headers).json() == []
    page = api.get("/v1/apps/a_chess/reviews", params={"market": "in"}).json()
    assert page["reviews"] == []
    charter.gate.consents.record(subject, "get_apps", method="api")
    assert api.get("/v1/apps/installed", headers=headers).json() == []
    assert api.get("/v1/apps/points", headers=headers).json()["balance"] == 0
    assert api.get("/v1/apps/a_chess/reviews", params={"market": "in"}).json()["reviews"] == []
    assert rows_of(charter, installs, subject) == []
    assert rows_of(charter, reviews, subject) == []


def test_deleting_the_account_leaves_no_row_in_the_content_tables(
    charter: Charter, api: TestClient
) -> None:
    subject, headers = person(charter, "in", authorize=("get_apps",))
    api.post(
        "/v1/themes/first-run", json={"accept_terms": True, "personalized": True}, headers=headers
    )
    assert api.put("/v1/themes/favorites/t_neon", headers=headers).status_code == 200
    assert api.post("/v1/apps/a_radio/installs", headers=headers).status_code == 201
    review = {"rating": 5, "text": "Clear sound", "nickname": "Arjun"}
    assert api.post("/v1/apps/a_radio/reviews", json=review, headers=headers).status_code == 201
    assert rows_of(charter, favorites, subject) and rows_of(charter, reviews, subject)
    charter.rights.delete_account(subject)
    for table in (favorites, installs, reviews):
        assert rows_of(charter, table, subject) == []
    assert api.get("/v1/apps/a_radio/reviews", params={"market": "in"}).json()["reviews"] == []
