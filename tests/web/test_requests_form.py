"""
The request form (issue 11): an empty complaint kept neither the chosen kind nor service,
and its error was a banner tied to no field. Now the form comes back as filled in, with the
error beside the field it is about (``aria-describedby``, ``aria-invalid``); and filed
requests name their service, not its id.
"""

from __future__ import annotations

import re

from web_support import TestClient, csrf_of


def _post(client: TestClient, data: dict[str, str]) -> tuple[int, str]:
    token = csrf_of(client.get("/requests").text)
    response = client.post(
        "/requests",
        data={**data, "csrf": token},
        headers={"referer": "https://testserver/requests"},
    )
    return response.status_code, response.text


def _selected(html: str, select: str) -> str | None:
    block = re.search(rf'<select id="{select}".*?</select>', html, re.S)
    assert block, select
    found = re.search(r'<option value="([^"]*)" selected>', block.group(0))
    return found.group(1) if found else None


def test_an_empty_complaint_keeps_the_choices_and_says_where(user_client: TestClient) -> None:
    status, html = _post(user_client, {"kind": "complain", "service": "themes", "message": " "})
    assert status == 400
    assert _selected(html, "kind") == "complain"  # not reset to the first kind
    assert _selected(html, "service") == "themes"
    textarea = re.search(r"<textarea id=\"message\"[^>]*>", html)
    assert textarea
    assert 'aria-describedby="message-error"' in textarea.group(0)
    assert 'aria-invalid="true"' in textarea.group(0)
    error = re.search(r'<p class="field-error" id="message-error">(.*?)</p>', html, re.S)
    assert error and "describe your complaint" in error.group(1).lower()
    assert html.count('class="field-error"') == 1  # only the field at fault


def test_the_typed_message_survives_another_fields_error(user_client: TestClient) -> None:
    status, html = _post(
        user_client, {"kind": "correct", "service": "no_such_service", "message": "Typo in name"}
    )
    assert status == 400
    assert _selected(html, "kind") == "correct"
    assert "Typo in name</textarea>" in html
    assert 'aria-describedby="service-error"' in html


def test_a_filed_request_names_its_service(user_client: TestClient) -> None:
    status, _html = _post(user_client, {"kind": "correct", "service": "account", "message": ""})
    assert status == 303
    page = user_client.get("/requests").text
    assert "Correct my data · Mi Account" in page
    assert "Correct my data · account<" not in page
