"""
Each item, correcting and deleting one, downloading its file, who touched my data, where it
is kept, and staff applying a requested correction: in Debian's chromium at desktop width
and at 375 px, signed in through the real form, with axe-core checked on every page.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, check_page, sign_in
from web_support import Deployment

from charter.gate import Event
from charter.taxonomy import Purpose

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None
        or importlib.util.find_spec("axe_playwright_python") is None,
        reason="the playwright or axe-playwright-python package is not installed",
    ),
]

WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")]
PHOTO = b"\x89PNG\r\n\x1a\n-a-photo-of-the-sea"


def _viewport(width: int) -> dict[str, int]:
    return {"width": width, "height": 900 if width > 500 else 812}


@pytest.mark.parametrize("width", WIDTHS)
def test_person_sees_corrects_and_deletes_each_item(
    served: tuple[Deployment, str], browser: Any, tmp_path: Path, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user = deployment.demo.user
    subject = user.account_id or ""
    gate = deployment.charter.gate
    for event in (  # one at a time: each is collected after the one before
        Event(subject, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "Buy bread"),
        Event(subject, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "Call the dentist"),
        Event(subject, "cloud", "photos_videos", Purpose.APP_FUNCTIONALITY, blob=PHOTO),
    ):
        planted = gate.collect([event], actor="service:cloud")
        assert planted.items[0].accepted, planted
    context = browser.new_context(viewport=_viewport(width), accept_downloads=True)
    page = context.new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    expect(page.get_by_role("heading", name="Your Privacy Center")).to_be_visible()
    check_page(page, "center")

    # From the Cloud card to each item, then to one data type.
    page.locator("#service-cloud").get_by_role("link", name="see each item").click()
    expect(page.get_by_role("heading", name="My items: Xiaomi Cloud")).to_be_visible()
    check_page(page, "items-cloud")
    page.get_by_role("navigation", name="Data types").get_by_role("link", name="Notes (3)").click()
    items = page.get_by_role("list", name="Items").get_by_role("listitem")
    expect(items.first).to_contain_text("Call the dentist")
    expect(items.nth(1)).to_contain_text("Buy bread")
    expect(items.first).to_contain_text("Collected")
    expect(items.first).to_contain_text("to make the service work")
    expect(items.first).to_contain_text("Kept until")

    # Correct the newest note.
    newest = items.first
    newest.get_by_text("Correct it…").click()
    newest.get_by_label("Corrected notes").fill("Call the dentist at 9")
    newest.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_contain_text("The Xiaomi Cloud item was corrected")
    expect(page.get_by_role("list", name="Items")).to_contain_text("Call the dentist at 9")

    # Delete one note; the other stays.
    page.goto(url + "/items/cloud?type=notes")
    bread = page.get_by_role("listitem").filter(has_text="Buy bread")
    bread.get_by_text("Delete this item…").click()
    bread.get_by_role("checkbox").check()
    bread.get_by_role("button", name="Delete this item").click()
    expect(page.get_by_role("status")).to_contain_text("The Xiaomi Cloud item was deleted")
    notes = [
        r.value for r in gate.read(subject, service="cloud", purpose=Purpose.APP_FUNCTIONALITY,
                                   data_type="notes", actor="test")
    ]  # fmt: skip
    assert "Buy bread" not in notes and "Call the dentist at 9" in notes

    # The photo is a download link, decrypted for the person.
    page.goto(url + "/items/cloud?type=photos_videos")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download this file").first.click()
    saved = tmp_path / "photo.bin"
    info.value.save_as(saved)
    assert saved.read_bytes() == PHOTO

    # Account details: never reversible values explained, no single delete.
    page.goto(url + "/items/account")
    expect(page.get_by_text("Kept only as a password hash")).to_be_visible()
    expect(page.get_by_role("heading", name="Used but never stored")).to_be_visible()
    expect(page.get_by_role("button", name="Delete this item")).to_have_count(0)
    check_page(page, "items-account")
    page.goto(url + "/items")
    expect(page.get_by_role("heading", name="My items")).to_be_visible()
    check_page(page, "items-overview")

    # Who touched my data, filtered to Cloud.
    page.get_by_role("link", name="Who touched my data").first.click()
    expect(page.get_by_role("heading", name="Who touched my data")).to_be_visible()
    page.get_by_label("Show activity of").select_option(label="Xiaomi Cloud")
    page.get_by_role("button", name="Show").click()
    activity = page.get_by_role("list", name="Activity")
    expect(activity).to_contain_text("You corrected one notes item of Xiaomi Cloud.")
    expect(activity).to_contain_text("You deleted one item of Xiaomi Cloud.")
    expect(activity).to_contain_text("You downloaded a file of your Xiaomi Cloud items.")
    expect(activity).to_contain_text("Xiaomi Cloud collected")
    expect(activity).not_to_contain_text("Mi Account")
    check_page(page, "activity")

    # Where it is kept and who is responsible.
    page.goto(url + "/")
    page.get_by_role("link", name="Where my data is kept and who is responsible").click()
    expect(page.get_by_role("heading", name="Where my data is kept")).to_be_visible()
    expect(page.get_by_text("Xiaomi Technology Netherlands B.V.")).to_be_visible()
    expect(page.get_by_text("EU Standard Contractual Clauses")).to_be_visible()
    expect(page.get_by_role("cell", name="Amazon Web Services").first).to_be_visible()
    check_page(page, "where")
    page.goto(url + "/requests")
    check_page(page, "requests")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_apply_a_correction_the_person_asked_for(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user, staff = deployment.demo.user, deployment.demo.staff
    subject = user.account_id or ""
    gate = deployment.charter.gate
    gate.collect(
        [Event(subject, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "Meet Ana on Fridy")],
        actor="service:cloud",
    )

    person = browser.new_context(viewport=_viewport(width))
    page = person.new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.goto(url + "/items/cloud?type=notes")
    reference = page.get_by_role("listitem").filter(has_text="Meet Ana").locator(".mono").last
    shown = reference.inner_text().strip()
    page.goto(url + "/requests")
    page.get_by_label("What do you want?").select_option(label="Correct my data")
    page.get_by_label("About which service?").select_option(label="Xiaomi Cloud")
    page.get_by_label("Details").fill(f"My note {shown} should say Friday.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Your request was filed")

    desk = browser.new_context(viewport=_viewport(width))
    work = desk.new_page()
    sign_in(work, deployment, url, staff.identifier, staff.password or "")
    work.goto(url + "/admin/requests")
    work.get_by_role("row").filter(has_text="Correct my data").get_by_role("link").first.click()
    check_page(work, "staff-request")
    work.get_by_role("link", name="Apply the correction through the gate").click()
    expect(work.get_by_role("heading", name="Apply a correction")).to_be_visible()
    expect(work.get_by_text("should say Friday")).to_be_visible()
    check_page(work, "staff-correction")
    choice = work.get_by_label("Record")
    option = choice.locator("option", has_text=shown)
    choice.select_option(value=option.get_attribute("value"))
    work.get_by_label("Corrected value").fill("Meet Ana on Friday")
    work.get_by_role("button", name="Apply and close the request").click()
    expect(work.get_by_role("status")).to_contain_text("Correction applied and the request closed")
    notes = gate.read(
        subject, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, data_type="notes", actor="t"
    )
    values = [n.value for n in notes]
    assert "Meet Ana on Friday" in values and "Meet Ana on Fridy" not in values

    page.goto(url + "/activity")
    activity = page.get_by_role("list", name="Activity")
    expect(activity).to_contain_text("corrected one notes item of Xiaomi Cloud")
    expect(activity).to_contain_text("Privacy Center staff (")
    desk.close()
    person.close()


def test_the_accessibility_check_can_fail(browser: Any) -> None:
    from browser_support import blocking_violations  # noqa: PLC0415

    page = browser.new_page()
    page.set_content('<!doctype html><html><body><img src="x.png"><button></button></body></html>')
    found = blocking_violations(page)
    assert any("image-alt" in f for f in found) and any("button-name" in f for f in found), found
    page.close()
