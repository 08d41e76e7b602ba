"""
The Privacy Center and the catalog's promises: the public promises page lists every promise
with its mark; a person sees only the services, switches and data offered in their market
(Spain: no Get Apps personalization; Points Mall only in India).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from web_support import Deployment, TestClient, sign_in

from charter.demo import new_password


def _person(
    deployment: Deployment, new_client: Callable[[], TestClient], market: str
) -> TestClient:
    identifier = f"person.{market}@example.org"
    password = new_password()
    deployment.accounts.create(identifier, password, market, actor="admin:test")
    client = new_client()
    sign_in(client, deployment.outbox, identifier, password)
    return client


def test_promises_page_is_public_and_marks_every_promise(
    deployment: Deployment, client: TestClient
) -> None:
    page = client.get("/promises")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    marks = re.findall(r'<span class="badge[^"]*">([^<]+)</span>', page.text)
    catalog = deployment.charter.catalog
    assert len(marks) == sum(len(s.rules) for s in catalog)
    assert set(marks) <= {"Kept by code", "Not yet kept by code", "Statement"}
    kept = re.search(
        r'id="get_apps.points_mall_markets"><span class="badge ok">Kept by code', page.text
    )
    assert kept, "the Points Mall market rule is kept by the gate"
    assert re.search(r'id="get_apps.app_security_audit"><span class="badge">Statement', page.text)
    assert "seed" not in page.text.lower()


@pytest.mark.promise("get_apps.recommendations_market_exclusion", "get_apps.points_mall_markets")
def test_privacy_center_shows_only_what_is_offered_in_the_market(
    deployment: Deployment, new_client: Callable[[], TestClient]
) -> None:
    spain = _person(deployment, new_client, "es").get("/").text
    india = _person(deployment, new_client, "in").get("/").text
    for page in (spain, india):
        assert 'id="service-get_apps"' in page
    assert 'value="get_apps.personalization"' not in spain
    assert 'value="get_apps.personalization"' in india
    assert "Points and Redeem Records" not in spain
    assert "Points and Redeem Records" in india
    assert 'id="service-pay"' not in spain  # Mi Pay is offered in India only
    assert "Our promises" in india and "Kept by code" in india
