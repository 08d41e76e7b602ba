"""
Usage and ads in a real browser (Debian's chromium, Playwright), at desktop and 375 px, with
axe-core inside the page: the person sees the privacy budget they have spent and what is
left, sees their ad segments and deletes one, then all.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

pytestmark = BROWSER_MARKS

GAMES = {"package_name": "com.xiaomi.glgm", "version_type": "stable"}


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_person_sees_their_budget_and_deletes_segments(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    charter = deployment.charter
    user = deployment.demo.user
    subject = user.account_id or ""
    charter.gate.set_switches(
        subject,
        {"system.usage_diagnostics": True, "system.user_experience_program": True},
        source="user",
        actor="subject",
    )
    charter.usage.events.submit(
        subject,
        "phone",
        [{"kind": "usage_sequence", "fields": GAMES}, {"kind": "app_status", "fields": GAMES}],
        actor="test",
    )
    charter.usage.analytics.release_app_usage(actor="staff:test")
    for _ in range(2):
        charter.ads.record_interaction(subject, "ad_music_headphones", "click")
    assert charter.ads.refresh(subject) == {"games": 2, "music": 2}

    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 812})
    page = context.new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.get_by_role("link", name="Usage and ads").click()
    expect(page.get_by_role("heading", name="Usage and ads", level=1)).to_be_visible()
    row = page.get_by_role("row", name="Analytics")
    expect(row).to_contain_text("0.50")  # spent
    expect(row).to_contain_text("3.50")  # left
    expect(row).to_contain_text("4.00")  # lifetime cap
    check_page(page, "usage")

    page.get_by_role("button", name="Delete segment games").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted 1 segment")
    assert [s["segment"] for s in charter.ads.my_segments(subject)] == ["music"]
    page.get_by_role("button", name="Delete every segment").click()
    expect(page.get_by_text("You are in no ad segment.")).to_be_visible()
    assert charter.ads.my_segments(subject) == []
    context.close()
