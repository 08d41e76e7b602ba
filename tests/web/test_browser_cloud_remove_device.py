"""
Removing a device from My cloud in a real browser (Debian's chromium, Playwright), at
desktop and 375 px, with axe-core inside the page: the confirmation says what removal means
under advanced protection, the form carries the page's CSRF token, the device is gone from
the list and from the server with every key wrapped to it, and a remaining device (the
reference client over HTTP) gives the category a new key the removed one cannot open.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

from charter.client import CloudClient
from charter.client.protection import DeviceKey, LockedError, ProtectedCloud

pytestmark = BROWSER_MARKS


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_the_person_removes_a_device_and_the_keys_are_rotated(
    served: tuple[Deployment, str], browser: Any, tmp_path: Path, width: int
) -> None:
    deployment, url = served
    subject = deployment.cloud_on()

    clients = ExitStack()

    def device(name: str) -> ProtectedCloud:
        cloud = clients.enter_context(CloudClient(url, deployment.token_for(subject)))
        return ProtectedCloud(cloud, DeviceKey.load_or_create(tmp_path / f"{name}.json"))

    with clients:
        the_person_removes_the_tablet(deployment, url, browser, width, device)


def the_person_removes_the_tablet(
    deployment: Deployment, url: str, browser: Any, width: int, device: Any
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    charter = deployment.charter
    user = deployment.demo.user
    subject = user.account_id or ""

    phone, tablet, old = device("phone"), device("tablet"), device("old")
    phone.protect("notes", acknowledge_data_loss=True)
    tablet.register()
    phone.approve(tablet.device.device_id)
    old.register()  # never approved: holds no key
    assert tablet.key("notes") == phone.key("notes")

    page = browser.new_context(
        viewport={"width": width, "height": 900 if width > 500 else 812}
    ).new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.goto(url + "/cloud#devices")
    rows = page.locator("li.device")
    expect(rows).to_have_count(3)
    held = page.locator(f'li[data-device="{tablet.device.device_id}"]')
    held.get_by_text("Remove this device…").click()
    consequence = held.locator("form p").first
    expect(consequence).to_contain_text("can no longer open protected items stored from now on")
    expect(consequence).to_contain_text("give Notes new keys")
    expect(consequence).to_contain_text("recovery key")
    assert held.locator('input[name="csrf"]').get_attribute("value")
    check_page(page, "cloud-remove-device")
    # the box must be ticked first: the browser does not send the form without it
    held.get_by_role("button", name="Remove this device").click()
    assert len(charter.cloud.devices.all(subject)) == 3
    held.get_by_label("I understand").check()
    held.get_by_role("button", name="Remove this device").click()
    flash = page.locator(".flash")
    expect(flash).to_contain_text(f"Device {tablet.device.device_id[3:9]} removed")
    expect(flash).to_contain_text("give Notes new keys")
    expect(page.locator(f'li[data-device="{tablet.device.device_id}"]')).to_have_count(0)
    expect(rows).to_have_count(2)
    assert tablet.device.device_id not in {d.device_id for d in charter.cloud.devices.all(subject)}
    assert charter.cloud.protection.status(subject)["notes"].state == "rotate"
    # a device that held no key: the confirmation says so
    pending = page.locator(f'li[data-device="{old.device.device_id}"]')
    pending.get_by_text("Remove this device…").click()
    expect(pending.locator("form p").first).to_contain_text("holds no key of protected items")
    check_page(page, "cloud-after-remove-device")

    # the phone makes the new key; the removed tablet cannot open what is stored afterwards
    assert phone.rotate_due() == ["notes"]
    after = phone.upload("notes", b"written after the removal", name="after")
    assert phone.download(after).content == b"written after the removal"
    again = device("tablet")  # the same key file: what the removed tablet still has
    with pytest.raises(LockedError):
        again.download(after)
