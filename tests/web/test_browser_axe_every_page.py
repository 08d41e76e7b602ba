"""
Every page of the Privacy Center in a real browser (Debian's chromium, Playwright), as a new
person and as staff would reach them, at desktop and 375 px: no sideways scroll and no
serious or critical axe-core violation (the engine runs inside the page; nothing is fetched).
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

pytestmark = BROWSER_MARKS

PUBLIC = ["/signin", "/policies/general"]
PERSON = [
    "/",
    "/items",
    "/items/account",
    "/cloud",
    "/themes",
    "/apps",
    "/vault",
    "/video",
    "/activity",
    "/where",
    "/requests",
    "/devices",
    "/find-device",
    "/account/delete",
    "/policies/cloud",
]
STAFF = ["/admin", "/admin/requests", "/admin/catalog", "/admin/catalog/cloud", "/admin/audit",
         "/admin/gov", "/admin/transparency/2026", "/admin/keys"]  # fmt: skip


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_every_page_is_accessible_and_fits(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    deployment, url = served
    viewport = {"width": width, "height": 900 if width > 500 else 812}
    anonymous = browser.new_context(viewport=viewport).new_page()
    for path in PUBLIC:
        response = anonymous.goto(url + path)
        assert response is not None and response.status == 200, path
        check_page(anonymous, "page" + path.replace("/", "-"))
    person = browser.new_context(viewport=viewport).new_page()
    user = deployment.demo.user
    sign_in(person, deployment, url, user.identifier, user.password or "")
    for path in PERSON:
        response = person.goto(url + path)
        assert response is not None and response.status == 200, path
        check_page(person, "page" + (path.replace("/", "-") if path != "/" else "-home"))
    staff = browser.new_context(viewport=viewport).new_page()
    member = deployment.demo.staff
    sign_in(staff, deployment, url, member.identifier, member.password or "")
    for path in STAFF:
        response = staff.goto(url + path)
        assert response is not None and response.status == 200, path
        check_page(staff, "page" + path.replace("/", "-"))
