"""
Mi Video in a real browser (Debian's chromium, Playwright), at desktop and 375 px, with
axe-core inside the page: what the app collects, local features only by default (then online
and back), the hashed partner ID explained; a person in Russia has the personalised-trending
switch, a person in Germany is told it is not offered there and has none.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

from charter.demo import new_password

pytestmark = BROWSER_MARKS


def account(deployment: Deployment, market: str, name: str) -> tuple[str, str, str]:
    password = new_password()
    identifier = f"{name}@example.org"
    subject = deployment.accounts.create(identifier, password, market, actor="test")
    return subject, identifier, password


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_the_mi_video_page_in_russia_and_germany(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    height = 900 if width > 500 else 812
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    subject, identifier, password = account(deployment, "ru", f"olga{width}")
    sign_in(page, deployment, url, identifier, password)
    page.goto(url + "/video")
    expect(page.get_by_role("heading", name="Mi Video", level=1)).to_be_visible()
    expect(page.get_by_text("uses local features only")).to_be_visible()
    expect(page.get_by_role("heading", name="What Mi Video collects")).to_be_visible()
    expect(page.get_by_text("Local video file management")).to_be_visible()
    expect(page.get_by_text("hashed separately for each provider")).to_be_visible()
    personal = page.get_by_role("switch", name="Personalized recommendations")
    expect(personal).to_be_visible()
    check_page(page, "video-ru")
    page.get_by_role("button", name="Turn online features on").click()
    expect(page.get_by_role("status")).to_contain_text("Online features are on")
    assert deployment.charter.video.online(subject) is True
    page.get_by_role("button", name="Use local features only").click()
    expect(page.get_by_role("status")).to_contain_text("local features only")
    assert deployment.charter.video.online(subject) is False
    context.close()

    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    _subject, identifier, password = account(deployment, "de", f"jonas{width}")
    sign_in(page, deployment, url, identifier, password)
    page.get_by_role("link", name="Mi Video").click()
    expect(page.get_by_role("heading", name="Mi Video", level=1)).to_be_visible()
    expect(page.get_by_text("Personalised trending is not offered in Germany")).to_be_visible()
    expect(page.get_by_role("switch", name="Personalized recommendations")).to_have_count(0)
    expect(page.get_by_role("switch", name="Use this service")).to_be_visible()
    check_page(page, "video-de")
    context.close()
