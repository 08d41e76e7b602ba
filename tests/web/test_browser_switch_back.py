"""
A switch flipped on a service's own page (Mi Video) in a real browser (Debian's chromium,
Playwright; signed in through the real sign-in page over HTTP) lands back on that page, with
the switch showing its new state, and the change is the gate's.
"""

from __future__ import annotations

import importlib.util
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import CHROMIUM, sign_in
from web_support import Deployment

from charter.demo import new_password

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed",
    ),
]

KEY = "video.authorization"


def test_a_switch_on_a_service_page_returns_to_that_page(
    served: tuple[Deployment, str], browser: Any
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    password = new_password()
    subject = deployment.accounts.create("vera@example.org", password, "ru", actor="test")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, deployment, url, "vera@example.org", password)
    page.goto(url + "/video")
    switch = page.get_by_role("switch", name="Use this service")
    was_on = deployment.charter.gate.switches(subject)[KEY]
    expect(switch).to_have_attribute("aria-checked", "true" if was_on else "false")
    for turned_on in (not was_on, was_on):  # flip it, then back
        switch.click()
        expect(page.get_by_role("status")).to_contain_text(f"is now {'on' if turned_on else 'off'}")
        assert urlsplit(page.url).path == "/video"
        assert urlsplit(page.url).fragment == "switches-title"
        expect(page.get_by_role("heading", name="Mi Video", level=1)).to_be_visible()
        expect(switch).to_have_attribute("aria-checked", "true" if turned_on else "false")
        assert deployment.charter.gate.switches(subject)[KEY] is turned_on
    context.close()
