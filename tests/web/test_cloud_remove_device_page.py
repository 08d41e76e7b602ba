"""
Removing a device from My cloud without a browser: a post without the CSRF token, or not
confirmed, or naming another person's device, removes nothing; a confirmed one removes the
device and every key wrapped to it.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from web_support import Deployment, TestClient, csrf_of

from charter.client.e2e import public_bytes


def a_device(deployment: Deployment, subject: str) -> str:
    device_id = "dv_" + secrets.token_hex(16)
    public = public_bytes(X25519PrivateKey.generate().public_key()).hex()
    deployment.charter.cloud.devices.register(subject, device_id, public)
    return device_id


def test_removing_a_device_needs_the_token_and_the_confirmation(
    deployment: Deployment, user_client: TestClient
) -> None:
    charter = deployment.charter
    subject = deployment.demo.user.account_id or ""
    other = charter.gate.create_subject("account", "de", actor="test").id
    mine, theirs = a_device(deployment, subject), a_device(deployment, other)
    page = user_client.get("/cloud")
    assert page.status_code == 200 and f'data-device="{mine}"' in page.text
    token = csrf_of(page.text)
    headers = {"referer": "https://testserver/cloud"}
    for device_id, data in (
        (mine, {"confirm": "yes"}),  # no CSRF token
        (mine, {"csrf": token}),  # not confirmed
        (theirs, {"csrf": token, "confirm": "yes"}),  # not this person's device
    ):
        refused = user_client.post(f"/cloud/devices/{device_id}/remove", data=data, headers=headers)
        assert refused.status_code in (303, 400, 403, 404, 422)
    assert [d.device_id for d in charter.cloud.devices.all(subject)] == [mine]
    assert [d.device_id for d in charter.cloud.devices.all(other)] == [theirs]
    done = user_client.post(
        f"/cloud/devices/{mine}/remove", data={"csrf": token, "confirm": "yes"}, headers=headers
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/cloud#devices")
    assert charter.cloud.devices.all(subject) == []
    assert "removed" in user_client.get("/cloud").text
