"""
My cloud in a real browser (Debian's chromium, Playwright), at desktop and 375 px, with
axe-core inside the page: the person sees what is synced by category, downloads an item,
deletes a photo to the trash and restores it, empties the trash, and ends a shared link.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

pytestmark = BROWSER_MARKS

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_person_browses_restores_and_empties_their_cloud(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user = deployment.demo.user
    subject = deployment.cloud_on()
    cloud = deployment.charter.cloud
    note = cloud.upload(subject, "notes", b"shopping: bread")
    photo = cloud.upload(subject, "gallery", PNG)
    cloud.links.share(subject, photo.id, days=3)

    context = browser.new_context(
        viewport={"width": width, "height": 900 if width > 500 else 812}, accept_downloads=True
    )
    page = context.new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.get_by_role("link", name="My cloud").click()
    expect(page.get_by_role("heading", name="My cloud", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Notes (1)")).to_be_visible()
    check_page(page, "cloud")

    page.get_by_role("link", name="Notes (1)").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").first.click()
    assert Path(download.value.path()).read_bytes() == b"shopping: bread"

    page.get_by_role("link", name="Gallery (1)").click()
    page.get_by_role("button", name="Delete").first.click()
    expect(page.get_by_role("status")).to_contain_text("Moved to the trash")
    expect(page.get_by_text("destroyed on").first).to_be_visible()
    assert cloud.item(subject, photo.id).state == "trashed"
    page.get_by_role("button", name="Restore").first.click()
    expect(page.get_by_role("status")).to_contain_text("Restored")
    assert cloud.item(subject, photo.id).state == "live"

    page.get_by_role("button", name="End this link").click()
    expect(page.get_by_text("ended").first).to_be_visible()
    assert cloud.links.list(subject)[0].revoked_at is not None

    page.goto(url + "/cloud?category=notes")
    page.get_by_role("button", name="Delete").first.click()
    page.get_by_role("button", name="Empty the trash now").click()
    expect(page.get_by_role("status")).to_contain_text("1 item destroyed")
    assert cloud.item(subject, note.id).state == "gone"
    check_page(page, "cloud-after")
