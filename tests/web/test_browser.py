"""
The Privacy Center in a real browser: Debian's chromium, headless, driven by Playwright.

Skipped (with the reason) when ``/usr/bin/chromium`` or the ``playwright`` package is
missing; ``playwright install`` is never needed. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from browser_support import ARTIFACTS, CHROMIUM, no_horizontal_scroll, sign_in
from web_support import Deployment

from charter.gate import Event
from charter.rights import Rights
from charter.taxonomy import Purpose

MARKER = "PLANTED-browser-record-9f3"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed",
    ),
]


def test_person_manages_their_privacy(
    served: tuple[Deployment, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user = deployment.demo.user
    subject, password = user.account_id or "", user.password or ""
    gate = deployment.charter.gate
    planted = gate.collect(
        [
            Event(
                subject,
                "themes",
                "favorite_resource_list",
                Purpose.APP_FUNCTIONALITY,
                {"m": MARKER},
            )
        ],
        actor="service:themes",
    ).items[0]
    assert planted.accepted and planted.record_id

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(url + "/")
    page.screenshot(path=str(ARTIFACTS / "signin-desktop.png"))
    sign_in(page, deployment, url, user.identifier, password)
    expect(page.get_by_role("heading", name="Your Privacy Center")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You are signed in")
    page.screenshot(path=str(ARTIFACTS / "center-desktop.png"), full_page=True)

    # Personalization off for Themes, by keyboard: focus the switch and press Enter.
    toggle = page.locator('button[role="switch"][data-key="themes.personalization"]')
    expect(toggle).to_have_attribute("aria-checked", "true")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Personalized recommendations is now off")
    expect(
        page.locator('button[role="switch"][data-key="themes.personalization"]')
    ).to_have_attribute("aria-checked", "false")
    refused = gate.collect(
        [Event(subject, "themes", "search_history", Purpose.PERSONALIZATION, {"q": "lighthouses"})],
        actor="service:themes",
    ).items[0]
    assert not refused.accepted, refused

    # Download my data: the zip opens and holds the planted record.
    page.get_by_role("button", name="Prepare my copy").click()
    expect(page.get_by_role("status")).to_contain_text("Your copy is ready")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the zip").click()
    saved = tmp_path / "export.zip"
    info.value.save_as(saved)
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
        assert "index.html" in archive.namelist()
        assert MARKER.encode() in archive.read("services/themes.json")

    # Withdraw consent for Themes.
    card = page.locator("#service-themes")
    card.get_by_text("Withdraw consent…").click()
    card.get_by_label("I understand: withdraw consent").check()
    card.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent to Themes withdrawn")
    assert gate.switches(subject)["themes.authorization"] is False
    assert Rights(deployment.charter.gate).devices.pending(subject_id=subject)

    # Phone-sized screen: no horizontal scroll, toggles still reachable.
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, storage_state=context.storage_state()
    )
    small = phone.new_page()
    for path, name in (("/", "center"), ("/requests", "requests"), ("/devices", "devices")):
        small.goto(url + path)
        assert no_horizontal_scroll(small), path
        small.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=path != "/")
    phone.close()

    # Delete the account: then sign-in fails and no residue is left.
    page.goto(url + "/account/delete")
    page.get_by_label("Your password").fill(password)
    page.get_by_label("I understand my account").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account and all its data were deleted")
    page.get_by_label("Email address or phone number").fill(user.identifier)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("the password is wrong")
    page.screenshot(path=str(ARTIFACTS / "signin-failed.png"))
    context.close()
    report = Rights(deployment.charter.gate).verify_erasure(
        subject, record_ids=[planted.record_id], markers=[MARKER]
    )
    assert report.clean, report


def test_staff_member_works_the_queue(served: tuple[Deployment, str], browser: Any) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    staff = deployment.demo.staff
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, deployment, url, staff.identifier, staff.password or "")
    page.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff overview")).to_be_visible()
    page.get_by_role("navigation", name="Staff").get_by_role(
        "link", name="Requests", exact=True
    ).click()
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "staff-queue.png"), full_page=True)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Audit log").click()
    page.get_by_role("button", name="Verify chains").click()
    results = page.locator("#chain-results")
    expect(results).to_be_visible()
    expect(results.locator(".badge.bad")).to_have_count(0)
    assert results.locator(".badge.ok").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "staff-audit.png"))
    page.goto(url + "/admin/catalog/themes")
    expect(page.locator("table.inventory")).to_be_visible()
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, storage_state=context.storage_state()
    )
    small = phone.new_page()
    for path in ("/admin/requests", "/admin/audit", "/admin/catalog/themes"):
        small.goto(url + path)
        assert no_horizontal_scroll(small), path
    small.screenshot(path=str(ARTIFACTS / "staff-catalog-375.png"))
    phone.close()
    context.close()
