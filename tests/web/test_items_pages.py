"""
The item, activity and where-it-lives pages and the staff correction page, in process: bad
input gets a readable message and changes nothing; other people's items are out of reach.
"""

from __future__ import annotations

import re

import pytest
from test_pages import flash, post
from web_support import Deployment, TestClient

from charter.gate import Event
from charter.taxonomy import Purpose

PAGES = ("/items", "/items/cloud", "/items/cloud?type=notes", "/activity", "/where")


def _note(deployment: Deployment, subject_id: str, text: str) -> str:
    item = deployment.charter.gate.collect(
        [Event(subject_id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, text)],
        actor="service:cloud",
    ).items[0]
    assert item.record_id, item
    return item.record_id


def _notes(deployment: Deployment, subject_id: str) -> list[str]:
    return [
        r.value
        for r in deployment.charter.gate.read(
            subject_id, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, data_type="notes",
            actor="test",
        )
    ]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_pages_render(deployment: Deployment, user_client: TestClient) -> None:
    _note(deployment, deployment.demo.user.account_id or "", "PAGE-NOTE-1")
    for path in PAGES:
        response = user_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"
        assert '<main id="main"' in response.text, path
        for field in re.findall(r'<(?:input|select|textarea)[^>]+id="([^"]+)"', response.text):
            assert f'for="{field}"' in response.text, f"{path}: {field} has no label"
    assert "PAGE-NOTE-1" in user_client.get("/items/cloud?type=notes").text
    assert "PAGE-NOTE-1" not in user_client.get("/activity").text


def test_bad_input_changes_nothing(deployment: Deployment, user_client: TestClient) -> None:
    me = deployment.demo.user.account_id or ""
    record = _note(deployment, me, "keep me")
    page = "/items/cloud?type=notes"
    r = post(user_client, f"/items/cloud/{record}/delete", {}, page)
    assert r.status_code == 303 and "tick the box" in flash(user_client).lower()
    r = post(user_client, f"/items/cloud/{record}/correct", {"value": "  "}, page)
    assert "enter the corrected value" in flash(user_client).lower()
    r = post(
        user_client, f"/items/cloud/{record}/correct", {"value": "{", "structured": "yes"}, page
    )
    assert "valid json" in flash(user_client).lower()
    assert "keep me" in _notes(deployment, me)
    bad = user_client.get("/items/cloud?cursor=nonsense")
    assert bad.status_code == 400 and "page cursor is not valid" in bad.text
    assert user_client.get("/activity?cursor=r1").status_code == 400
    assert user_client.get("/items/nothing_here").status_code == 404
    assert user_client.get(f"/items/cloud/{record}/file").status_code == 404
    r = user_client.post(f"/items/cloud/{record}/delete", data={"confirm": "yes"})
    assert r.status_code == 303 and "form has expired" in flash(user_client)
    assert "keep me" in _notes(deployment, me)


def test_correct_and_delete_one_item(deployment: Deployment, user_client: TestClient) -> None:
    me = deployment.demo.user.account_id or ""
    first = _note(deployment, me, "first")
    second = _note(deployment, me, "second")
    page = "/items/cloud?type=notes"
    post(user_client, f"/items/cloud/{first}/correct", {"value": "first, corrected"}, page)
    assert "was corrected" in flash(user_client, page)
    post(user_client, f"/items/cloud/{second}/delete", {"confirm": "yes"}, page)
    assert "was deleted" in flash(user_client, page)
    notes = _notes(deployment, me)
    assert "first, corrected" in notes and "second" not in notes and "first" not in notes


def test_other_peoples_items_are_out_of_reach(
    deployment: Deployment, user_client: TestClient
) -> None:
    staff_id = deployment.demo.staff.account_id or ""
    deployment.charter.gate.set_switches(
        staff_id, {"cloud.authorization": True}, source="test", actor="subject"
    )
    theirs = _note(deployment, staff_id, "NOT-YOURS-5")
    page = "/items/cloud"
    post(user_client, f"/items/cloud/{theirs}/delete", {"confirm": "yes"}, page)
    assert "no such record" in flash(user_client).lower()
    post(user_client, f"/items/cloud/{theirs}/correct", {"value": "mine now"}, page)
    assert "no such record" in flash(user_client).lower()
    assert "NOT-YOURS-5" in _notes(deployment, staff_id)
    assert "NOT-YOURS-5" not in user_client.get("/items/cloud?type=notes").text


def test_staff_correction_page(
    deployment: Deployment, user_client: TestClient, staff_client: TestClient
) -> None:
    me = deployment.demo.user.account_id or ""
    _note(deployment, me, "wrnog")
    filed = deployment.charter.rights.requests.file(me, "correct", service="cloud", message="typo")
    access = deployment.charter.rights.requests.file(me, "access")
    assert user_client.get(f"/admin/requests/{filed.id}/correction").status_code == 403
    page = staff_client.get(f"/admin/requests/{filed.id}/correction")
    assert page.status_code == 200 and "wrnog" not in page.text
    refs = re.findall(r'<option value="([0-9a-f]{16})"', page.text)
    assert refs
    assert staff_client.get(f"/admin/requests/{access.id}/correction").status_code == 400
    path = f"/admin/requests/{filed.id}/correction"
    post(staff_client, path, {"record": "0" * 16, "value": "x"}, path)
    assert "no record" in flash(staff_client, path).lower()
    # the newest correctable cloud record is the note planted above
    post(staff_client, path, {"record": refs[0], "value": "wrong"}, path)
    assert "correction applied" in flash(staff_client, f"/admin/requests/{filed.id}").lower()
    assert "wrong" in _notes(deployment, me) and "wrnog" not in _notes(deployment, me)
