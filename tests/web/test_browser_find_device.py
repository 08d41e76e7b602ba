"""
Find my device in a real browser (Debian's chromium, Playwright): a person signs in through
the sign-in page, sets a passphrase (the keys are made in the browser), a simulated device
(the reference client in this process, over HTTP to the same server) is switched on, the
person unlocks the keys after a reload and clicks Locate; the device answers and the page
shows the right coordinate, opened in the browser. Then a canary scan: no file the server
wrote holds the coordinate (in any encoding) or the passphrase.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

from charter.client.find_device import FindDeviceAgent
from charter.client.find_device_crypto import OwnerKeyFile, Position, b64d

pytestmark = BROWSER_MARKS

HERE = Position(48.858370, 2.294481, 9.0)
PASSPHRASE = "correct horse battery staple 42"
IDS = {"mac_address": "AA:BB:CC:44:55:66", "device_id": "android-5f1c2e", "fid": "fid-9921"}


def _encodings(value: float) -> list[bytes]:
    text = repr(value)
    return [
        text.encode(), text.encode("utf-16-le"), json.dumps(value).encode(),
        struct.pack("<d", value), struct.pack(">d", value), struct.pack("<f", value),
        struct.pack(">f", value), f"{value:.5f}".encode(), f"{value:.4f}".encode(),
    ]  # fmt: skip


def test_owner_locates_their_device_and_reads_the_position_in_the_browser(
    served: tuple[Deployment, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    charter = deployment.charter
    user = deployment.demo.user
    subject = user.account_id or ""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.get_by_role("link", name="Find my device").click()
    expect(page.get_by_role("heading", name="Find my device", level=1)).to_be_visible()
    expect(page.locator("#fd")).to_have_attribute("data-ready", "yes")

    page.get_by_label("New passphrase (12 characters or more)").fill(PASSPHRASE)
    page.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Set up my keys").click()
    expect(page.get_by_role("status").first).to_contain_text("set up and unlocked")
    keys = charter.find_device.owner_keys(subject)
    assert keys is not None and keys.wrapped is not None
    # The wrapped blob opens with the passphrase (the CLI's format too), never without it.
    opened = OwnerKeyFile.unwrap(keys.wrapped, PASSPHRASE)
    assert opened.seal_public == keys.seal_public and opened.sign_public == keys.sign_public
    with pytest.raises(ValueError, match="passphrase"):
        OwnerKeyFile.unwrap(keys.wrapped, PASSPHRASE + "!")

    token = charter.credentials.issue_user_token(subject, actor="test").secret
    phone = FindDeviceAgent(url, tmp_path / "phone.json", IDS, lambda: HERE)
    try:
        phone.activate(token)
        device_id = phone.device_id or ""
        assert b64d(phone.state["owner"]["seal_public"]) == keys.seal_public

        page.reload()  # the keys stay in the page's memory only: unlock them again
        expect(page.locator("#fd")).to_have_attribute("data-ready", "yes")
        page.get_by_label("Passphrase", exact=True).fill("not the passphrase")
        page.get_by_role("button", name="Unlock my keys").click()
        expect(page.locator("#fd-key-status")).to_contain_text("does not open your keys")
        page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
        page.get_by_role("button", name="Unlock my keys").click()
        expect(page.locator("#fd-key-status")).to_contain_text("unlocked")

        result = page.locator(f"#result-{device_id}")
        page.get_by_role("button", name=re.compile(r"^Locate")).click()
        expect(result).to_contain_text("Asking the device")
        assert phone.poll(wait=30) == [("locate", "done")]
        expect(result).to_contain_text(f"{HERE.lat}, {HERE.lon}")
        expect(result).to_contain_text("signed by the device")

        page.get_by_role("button", name=re.compile(r"^Ring")).click()
        assert phone.poll(wait=30) == [("ring", "done")]
        expect(result).to_contain_text("The device rang.")
        assert phone.rang == 1

        page.get_by_text("Lost mode", exact=False).first.click()
        page.get_by_label("Message on the lock screen").fill("Gefunden? Bitte anrufen – danke")
        page.get_by_label("Number to call").fill("+33 1 23 45 67 89")
        page.get_by_role("button", name="Turn lost mode on").click()
        assert phone.poll(wait=30) == [("lost_mode_on", "done")]
        expect(result).to_contain_text("Lost mode is on.")
        assert phone.lost is not None
        assert phone.lost["message"] == "Gefunden? Bitte anrufen – danke"
        assert phone.lost["phone"] == "+33 1 23 45 67 89" and phone.lost["interval_s"] == 900

        page.get_by_role("button", name="Show my positions").click()
        expect(page.locator("#fd-positions")).to_contain_text(f"Located on request: {HERE.lat}")
        expect(page.locator("#fd-positions")).to_contain_text(f"Lost mode report: {HERE.lat}")
        check_page(page, "find-device-located")
        page.set_viewport_size({"width": 375, "height": 812})
        check_page(page, "find-device-located")
    finally:
        phone.close()

    found = []
    for path in charter.settings.data_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            for enc in (*_encodings(HERE.lat), *_encodings(HERE.lon), PASSPHRASE.encode()):
                if enc in raw:
                    found.append((path.name, enc))
    assert found == []
