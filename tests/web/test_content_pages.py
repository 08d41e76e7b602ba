"""The content services' pages (Themes, Get Apps, App Vault) through the Privacy Center: the
first-run choice with the terms, favourites and purchases, the store of the person's market
(no personalisation switch in Spain, the Points Mall only in India), reviews as others see
them; forms carry the CSRF token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web_support import Deployment, TestClient, csrf_of, sign_in

from charter.demo import new_password


def person_in(
    deployment: Deployment, new_client: Callable[[], TestClient], market: str, name: str
) -> tuple[str, TestClient]:
    password = new_password()
    identifier = f"{name}@example.org"
    subject = deployment.accounts.create(identifier, password, market, actor="test")
    client = new_client()
    sign_in(client, deployment.outbox, identifier, password)
    return subject, client


@pytest.mark.promise("themes.first_run_personalization_choice")
def test_themes_first_visit_asks_with_the_terms_then_the_store_works(
    deployment: Deployment, user_client: TestClient
) -> None:
    page = user_client.get("/themes")
    assert page.status_code == 200
    assert "Before you start" in page.text and 'href="/policies/themes"' in page.text
    subject = deployment.demo.user.account_id or ""
    user_client.post("/themes/first-run", data={"accept_terms": "yes"})  # no CSRF token

    def first_run_consents() -> list[str]:
        found = deployment.charter.gate.consents.records(subject)
        return [r.method for r in found if r.scope == "themes" and r.method == "device_first_run"]

    assert first_run_consents() == []
    missing = user_client.post("/themes/first-run", data={"csrf": csrf_of(page.text)})
    assert missing.status_code == 303
    assert "Before you start" in user_client.get("/themes").text
    answer = user_client.post(
        "/themes/first-run", data={"csrf": csrf_of(page.text), "accept_terms": "yes"}
    )
    assert answer.status_code == 303
    assert first_run_consents() == ["device_first_run"]
    store = user_client.get("/themes")
    assert "Popular now" in store.text and "You chose no personalised recommendations" in store.text
    token = csrf_of(store.text)
    assert user_client.post("/themes/w_fjord/favorite", data={"csrf": token}).status_code == 303
    assert user_client.post("/themes/t_paper/purchase", data={"csrf": token}).status_code == 303
    assert [r.id for r in deployment.charter.themes.favorites(subject)] == ["w_fjord"]
    assert [r.id for r in deployment.charter.themes.purchases(subject)] == ["t_paper"]
    assert "Yours" in user_client.get("/themes").text


def test_get_apps_in_spain_has_no_personalisation_switch(
    deployment: Deployment, new_client: Callable[[], TestClient]
) -> None:
    spanish, es = person_in(deployment, new_client, "es", "lucia")
    indian, india = person_in(deployment, new_client, "in", "priya")
    for subject in (spanish, indian):
        deployment.charter.gate.consents.record(subject, "get_apps", method="privacy_center")
    page = es.get("/apps").text
    assert "get_apps.authorization" in page
    assert "get_apps.personalization" not in page
    assert "Personalized recommendations are not offered in your country." in page
    assert "Points Mall" not in page
    other = india.get("/apps").text
    assert "get_apps.personalization" in other and "Points Mall" in other
    token = csrf_of(other)
    assert india.post("/apps/a_chess/install", data={"csrf": token}).status_code == 303
    answer = india.post(
        "/apps/reviews",
        data={
            "csrf": token,
            "app_id": "a_notes",
            "rating": "4",
            "text": "Handy",
            "nickname": "Priya",
        },
    )
    assert answer.status_code == 303
    assert "Priya · 4 stars" in india.get("/apps").text
    assert "P***a · 4 stars" in es.get("/apps").text
    assert "Priya" not in es.get("/apps").text


def test_get_apps_is_not_offered_in_germany_and_the_vault_shows_its_news(
    user_client: TestClient,
) -> None:
    page = user_client.get("/apps")
    assert page.status_code == 200 and "Get Apps is not offered in your country." in page.text
    vault = user_client.get("/vault")
    assert "News from MSN.com" in vault.text and "Not tailored to you." in vault.text
