"""
The staff page for service credentials (``/admin/keys``): an admin makes a credential and
sees it once (never in the list, a redirect or the session), revokes it; staff without the
admin role are refused.
"""

from __future__ import annotations

import re

import pytest
from test_pages import post
from web_support import Deployment, TestClient, csrf_of, sign_in

from charter.errors import AuthError


def test_an_admin_makes_and_revokes_a_credential(
    deployment: Deployment, staff_client: TestClient
) -> None:
    page = staff_client.get("/admin/keys")
    assert page.status_code == 200
    made = staff_client.post(
        "/admin/keys",
        data={"service": "themes", "csrf": csrf_of(page.text)},
        headers={"referer": "https://testserver/admin/keys"},
    )
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    found = re.search(r'value="(ck_[0-9a-f]+_[A-Za-z0-9_-]+)"', made.text)
    assert found, "the credential is shown on the answer page"
    secret = found.group(1)
    credentials = deployment.charter.credentials
    assert credentials.verify_api_key(secret) == "themes"
    key_id = secret.split("_")[1]
    listed = staff_client.get("/admin/keys").text
    assert key_id in listed and secret not in listed  # shown once only
    assert "set-cookie" not in made.headers or secret not in made.headers["set-cookie"]
    post(staff_client, f"/admin/keys/{key_id}/revoke", {}, page="/admin/keys")
    with pytest.raises(AuthError):
        credentials.verify_api_key(secret)
    assert "revoked" in staff_client.get("/admin/keys").text


def test_staff_without_the_admin_role_are_refused(
    deployment: Deployment, new_client: object
) -> None:
    charter = deployment.charter
    staff = charter.staff.get(deployment.demo.staff.account_id or "")
    assert staff is not None
    charter.staff.grant(staff.subject_id, staff.handle, role="staff")
    client = new_client()  # type: ignore[operator]
    assert deployment.demo.staff.password is not None
    sign_in(
        client, deployment.outbox, deployment.demo.staff.identifier, deployment.demo.staff.password
    )
    assert client.get("/admin/keys").status_code == 403
    assert "Credentials" not in client.get("/admin").text
