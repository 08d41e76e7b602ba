"""
Issue 11 in a real browser (Debian's chromium), signed in through the real form, at desktop
width and at 375 px: an empty complaint keeps the chosen kind and service and ties its error
to the field; after withdrawing a service its secondary switches read Off and are disabled.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import ARTIFACTS, no_horizontal_scroll, sign_in
from test_browser import pytestmark  # noqa: F401 - the same skips
from web_support import Deployment


@pytest.mark.parametrize("width", [1280, 375])
def test_an_empty_complaint_keeps_the_form(
    served: tuple[Deployment, str],
    browser: Any,
    width: int,
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user = deployment.demo.user
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.goto(url + "/requests")
    page.get_by_label("What do you want?").select_option("complain")
    page.get_by_label("About which service?").select_option("themes")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("What do you want?")).to_have_value("complain")
    expect(page.get_by_label("About which service?")).to_have_value("themes")
    details = page.locator("#message")
    expect(details).to_have_attribute("aria-invalid", "true")
    expect(details).to_have_attribute("aria-describedby", "message-error")
    error = page.locator("#message-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Describe your complaint")
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"complaint-error-{width}.png"), full_page=True)
    context.close()


def test_withdrawn_service_switches_read_off(
    served: tuple[Deployment, str],
    browser: Any,
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user = deployment.demo.user
    context = browser.new_context(viewport={"width": 375, "height": 900})
    page = context.new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    card = page.locator("#service-themes")
    card.get_by_text("Withdraw consent…").click()
    card.get_by_label("I understand: withdraw consent for Themes").check()
    card.get_by_role("button", name="Withdraw consent", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Consent to Themes withdrawn")
    for key in ("themes.personalization", "themes.ads"):
        toggle = page.locator(f'button[role="switch"][data-key="{key}"]')
        expect(toggle).to_have_attribute("aria-checked", "false")
        expect(toggle).to_be_disabled()
        expect(toggle).to_contain_text("Off")
    page.goto(url + "/devices")
    expect(page.get_by_text("login", exact=True)).to_have_count(0)
    context.close()
