"""
A device approving a web session, in a real browser (Debian's chromium, Playwright): on My
cloud the person asks to open protected items here; the page makes an ephemeral key, a
device (the reference client, over HTTP to the served deployment) compares the twelve digits
and wraps the keys to it; the page opens the wraps and decrypts the items locally. The
server's files hold neither the keys nor the plaintext; another session gets nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

from charter.client import ApiError, CloudClient
from charter.client.protection import DeviceKey, ProtectedCloud
from charter.errors import NotFoundError

pytestmark = BROWSER_MARKS

NOTE = "CANARYnoteUnlock7731 buy the ring"
NAME = "CANARYnameUnlock5520"


def test_a_device_approves_this_browser_and_the_page_decrypts_the_items(
    served: tuple[Deployment, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    charter = deployment.charter
    user = deployment.demo.user
    subject = deployment.cloud_on()
    token = deployment.token_for(subject)
    with CloudClient(url, token) as cloud:
        phone = ProtectedCloud(cloud, DeviceKey.load_or_create(tmp_path / "phone.json"))
        phone.protect("notes", acknowledge_data_loss=True)
        phone.upload("notes", NOTE.encode(), name=NAME, path="Secrets")
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sign_in(page, deployment, url, user.identifier, user.password or "")
        page.goto(url + "/cloud?category=notes")
        expect(page.get_by_text("Locked: open it on your device")).to_be_visible()
        page.get_by_role("button", name="Ask my device").click()
        status = page.locator("#unlock-status")
        expect(status).to_contain_text("check that the digits match")
        (asked,) = phone.web_unlocks()
        digits = re.search(r"as ([0-9 ]{15}):", status.inner_text())
        assert digits is not None and digits.group(1) == asked["fingerprint"]
        # a device not approved may not hand out the keys
        other = ProtectedCloud(
            CloudClient(url, token), DeviceKey.load_or_create(tmp_path / "other.json")
        )
        other.register()
        with pytest.raises(ApiError) as refused:
            other.transport.request(
                "POST", f"/v1/cloud/unlocks/{asked['id']}", json={"wrapped": {"notes": ["AA=="]}}
            )
        assert refused.value.code == "device_not_approved"
        other.cloud.close()
        assert phone.approve_web(asked["id"])["approved"] is True
        expect(page.locator("#unlock")).to_have_attribute("data-state", "unlocked")
        opened = page.locator("[data-locked-item]")
        expect(opened).to_have_attribute("data-opened", "yes")
        expect(opened).to_contain_text(f"Secrets/{NAME}")
        expect(opened).to_contain_text(NOTE)
        check_page(page, "cloud-unlocked")
        # only the session that asked gets the keys
        with pytest.raises(NotFoundError):
            charter.cloud.web_unlocks.get(subject, asked["id"], "another-session")
        stranger = browser.new_context().new_page()
        answer = stranger.request.get(f"{url}/cloud/unlock/{asked['id']}")
        assert answer.url.endswith("/signin") and b"wrapped" not in answer.body()
        second = browser.new_context().new_page()  # the same person, another session
        sign_in(second, deployment, url, user.identifier, user.password or "")
        answer = second.request.get(f"{url}/cloud/unlock/{asked['id']}")
        assert answer.status == 404 and b"wrapped" not in answer.body()
        assert page.request.get(f"{url}/cloud/unlock/{asked['id']}").status == 200
        # the server holds neither a key nor the plaintext in any file
        key = phone.key("notes")
        needles = [NOTE.encode(), NAME.encode(), key, key.hex().encode()]
        files = [p for p in charter.settings.data_dir.rglob("*") if p.is_file()]
        assert not [
            (p.name, i) for p in files for i, n in enumerate(needles) if n in p.read_bytes()
        ]
