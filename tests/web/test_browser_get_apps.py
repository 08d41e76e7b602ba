"""
Get Apps in a real browser (Debian's chromium, Playwright), at desktop and 375 px, with
axe-core inside the page: a person in Spain sees the store with no personalisation switch
(and is told why), while a person in India sees it and the Points Mall.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

from charter.demo import new_password

pytestmark = BROWSER_MARKS


def account(deployment: Deployment, market: str, name: str) -> tuple[str, str]:
    password = new_password()
    identifier = f"{name}@example.org"
    subject = deployment.accounts.create(identifier, password, market, actor="test")
    deployment.charter.gate.consents.record(subject, "get_apps", method="privacy_center")
    return identifier, password


@pytest.mark.promise("get_apps.recommendations_market_exclusion")
@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_a_person_in_spain_sees_no_personalisation_switch(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 812})
    page = context.new_page()
    identifier, password = account(deployment, "es", "lucia")
    sign_in(page, deployment, url, identifier, password)
    page.get_by_role("link", name="Get Apps").click()
    expect(page.get_by_role("heading", name="Get Apps", level=1)).to_be_visible()
    expect(page.get_by_role("switch", name="Use this service")).to_be_visible()
    expect(page.get_by_role("switch", name="Personalized recommendations")).to_have_count(0)
    expect(
        page.get_by_text("Personalized recommendations are not offered in your country.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Points Mall")).to_have_count(0)
    check_page(page, "get-apps-es")
    context.close()

    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 812})
    page = context.new_page()
    identifier, password = account(deployment, "in", "priya")
    sign_in(page, deployment, url, identifier, password)
    page.goto(url + "/apps")
    expect(page.get_by_role("switch", name="Personalized recommendations")).to_be_visible()
    expect(page.get_by_role("heading", name="Points Mall")).to_be_visible()
    page.get_by_role("button", name="Install Chess Club").click()
    expect(page.get_by_role("status")).to_contain_text("Chess Club installed")
    expect(page.get_by_text("You have 10 points.")).to_be_visible()
    check_page(page, "get-apps-in")
    context.close()
