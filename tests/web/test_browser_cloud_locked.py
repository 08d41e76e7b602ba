"""
My cloud in a real browser with advanced protection: the statement is shown before anyone
opts in, items of a protected category show as locked ("open it on your device") with no
download, the devices and their approval state are listed, and the purchase history shows
the plan changes. (A device can approve a web session: test_browser_cloud_unlock.py.)
"""

from __future__ import annotations

from typing import Any

from browser_support import BROWSER_MARKS, check_page, sign_in
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from web_support import Deployment

from charter.client import e2e
from charter.services.cloud.protection import STATEMENT

pytestmark = BROWSER_MARKS


def test_protected_items_are_locked_on_the_web(
    served: tuple[Deployment, str], browser: Any
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    user = deployment.demo.user
    subject = deployment.cloud_on()
    cloud = deployment.charter.cloud
    cloud.set_plan(subject, "plus", source="person")
    device = X25519PrivateKey.generate()
    device_id = "dv_" + "ab" * 16
    cloud.devices.register(subject, device_id, e2e.public_bytes(device.public_key()).hex())
    cloud.devices.configure(subject, device_id, wifi_only=True)
    key = e2e.new_key()
    recovery = e2e.recovery_private_key(e2e.new_recovery_code())
    cloud.protection.enable(
        subject,
        "notes",
        acknowledge_data_loss=True,
        key_id=e2e.key_id(key).hex(),
        device_id=device_id,
        recovery_public=e2e.public_bytes(recovery.public_key()).hex(),
        wrapped={
            device_id: e2e.wrap_key(key, "notes", device.public_key()),
            "recovery": e2e.wrap_key(key, "notes", recovery.public_key()),
        },
    )
    cloud.upload(subject, "notes", e2e.seal_item(key, "notes", b"secret", name="Plans"))
    cloud.upload(subject, "contacts", b"BEGIN:VCARD\nFN:Ana\nEND:VCARD")

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, deployment, url, user.identifier, user.password or "")
    page.goto(url + "/cloud")
    expect(page.get_by_text(STATEMENT)).to_be_visible()
    expect(page.locator("#purchases")).to_contain_text("free → plus")
    expect(page.get_by_text("holds the keys · syncs only on Wi-Fi")).to_be_visible()
    page.get_by_role("link", name="Notes (1)").click()
    expect(page.get_by_text("Locked: open it on your device")).to_be_visible()
    expect(page.get_by_role("link", name="Download")).to_have_count(0)
    page.get_by_role("link", name="Contacts (1)").click()
    expect(page.get_by_role("link", name="Download")).to_have_count(1)
    check_page(page, "cloud-locked")
    notes = cloud.changes(subject)[0]
    locked = next(i for i in notes if i.category == "notes")
    answer = page.request.get(url + f"/cloud/items/{locked.id}")
    assert answer.status == 403 and b"secret" not in answer.body()
