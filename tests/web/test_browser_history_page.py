"""
The Mi Browser page: clearing history asks for confirmation, then clears the synced copy and
queues a ``clear_browser_history`` command for each of the person's devices; a post without
the CSRF token changes nothing.
"""

from __future__ import annotations

from web_support import Deployment, TestClient, csrf_of


def test_clearing_history_on_the_page_needs_confirmation_and_reaches_every_device(
    deployment: Deployment, user_client: TestClient
) -> None:
    charter = deployment.charter
    subject = deployment.cloud_on()
    charter.rights.devices.register(subject, "tablet")
    charter.browser.put_sync(subject, "history", [{"url": "https://example.org/a", "title": "a"}])
    page = user_client.get("/browser")
    assert page.status_code == 200 and "Browser sync is <strong>on</strong>" in page.text
    token = csrf_of(page.text)
    headers = {"referer": "https://testserver/browser"}
    for data in ({"confirm": "yes"}, {"csrf": token}):  # no CSRF token; not confirmed
        refused = user_client.post("/browser/clear-history", data=data, headers=headers)
        assert refused.status_code in (303, 400, 403)
    assert charter.browser.get_sync(subject, "history").entries
    assert charter.rights.devices.pending(subject_id=subject) == []
    done = user_client.post(
        "/browser/clear-history", data={"csrf": token, "confirm": "yes"}, headers=headers
    )
    assert done.status_code == 303
    pending = charter.rights.devices.pending(subject_id=subject)
    assert {c.kind for c in pending} == {"clear_browser_history"}
    assert "tablet" in {c.device_id for c in pending}
    assert "will clear it too" in user_client.get("/browser").text
