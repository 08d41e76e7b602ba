"""
The Find Device page's server side without a browser: the page needs a signed-in person,
its JSON calls carry the session's CSRF token (a post without it changes nothing), and a
refused command comes back as a readable JSON error, never as a stack trace.
"""

from __future__ import annotations

import base64

from web_support import Deployment, TestClient, csrf_of

from charter.client.find_device_crypto import OwnerKeyFile


def _keys_form(keys: OwnerKeyFile, csrf: str | None) -> dict[str, str]:
    form = {
        "seal_public": base64.b64encode(keys.seal_public).decode(),
        "sign_public": base64.b64encode(keys.sign_public).decode(),
        "wrapped": base64.b64encode(keys.wrap("a passphrase of length", rounds=100_000)).decode(),
    }
    if csrf is not None:
        form["csrf"] = csrf
    return form


def test_the_page_and_its_data_need_a_signed_in_person(client: TestClient) -> None:
    for path in ("/find-device", "/find-device/data"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_keys_are_set_only_with_the_session_csrf_token(
    deployment: Deployment, user_client: TestClient
) -> None:
    subject = deployment.demo.user.account_id or ""
    fd = deployment.charter.find_device
    page = user_client.get("/find-device")
    assert page.status_code == 200
    assert '<script type="module" src="/static/find-device.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    keys = OwnerKeyFile.generate()

    for csrf in (None, "forged"):
        refused = user_client.post("/find-device/owner", data=_keys_form(keys, csrf))
        assert refused.status_code == 303
        assert fd.owner_keys(subject) is None

    done = user_client.post("/find-device/owner", data=_keys_form(keys, csrf_of(page.text)))
    assert done.status_code == 200 and done.json() == {"ok": True}
    found = fd.owner_keys(subject)
    assert found is not None and found.seal_public == keys.seal_public
    data = user_client.get("/find-device/data").json()
    assert data["owner"]["sign_public"] == base64.b64encode(keys.sign_public).decode()
    assert data["devices"] == [] and data["reports"] == []


def test_a_refused_command_is_a_readable_json_error(
    deployment: Deployment, user_client: TestClient
) -> None:
    page = user_client.get("/find-device")
    csrf = csrf_of(page.text)
    keys = OwnerKeyFile.generate()
    user_client.post("/find-device/owner", data=_keys_form(keys, csrf))
    payload, signature = keys.command("ring", "fd_" + "0" * 32, deployment.charter.clock())
    answer = user_client.post(
        f"/find-device/devices/{'fd_' + '0' * 32}/commands",
        data={
            "csrf": csrf,
            "payload": base64.b64encode(payload).decode(),
            "signature": base64.b64encode(signature).decode(),
        },
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert "no such device" in answer.json()["error"]["message"].lower()
    bad = user_client.post(
        f"/find-device/devices/{'fd_' + '0' * 32}/commands",
        data={"csrf": csrf, "payload": base64.b64encode(payload).decode(), "signature": "AA=="},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
