"""The Privacy Center's pages and forms through the ASGI app (no browser)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select
from web_support import Deployment, TestClient, csrf_of, last_code, sign_in

from charter.gate import Event
from charter.rights import Rights
from charter.services.account import DeviceInfo
from charter.services.account.tables import browser_sessions
from charter.taxonomy import Purpose
from charter.web.session import COOKIE

USER_PAGES = (
    "/",
    "/requests",
    "/devices",
    "/usage",
    "/account/delete",
    "/policies/general",
    "/policies/themes",
)
STAFF_PAGES = (
    "/admin",
    "/admin/catalog",
    "/admin/catalog/themes",
    "/admin/requests",
    "/admin/requests?state=closed",
    "/admin/audit",
    "/admin/gov",
    "/admin/keys",
)


def flash(client: TestClient, path: str = "/") -> str:
    """The text of the next page's status message."""
    page = client.get(path)
    found = re.search(r'class="flash flash-\w+"[^>]*>\s*<p>(.*?)</p>', page.text, re.S)
    return found.group(1) if found else ""


def post(client: TestClient, path: str, data: dict[str, str], page: str = "/") -> httpx.Response:
    """Post a form with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    response: httpx.Response = client.post(
        path, data={**data, "csrf": token}, headers={"referer": f"https://testserver{page}"}
    )
    return response


def plant(deployment: Deployment, subject_id: str, marker: str) -> str:
    """A record with a marker, collected through the gate; its id."""
    result = deployment.charter.gate.collect(
        [
            Event(
                subject_id,
                "themes",
                "favorite_resource_list",
                Purpose.APP_FUNCTIONALITY,
                {"m": marker},
            )
        ],
        actor="service:themes",
    )
    item = result.items[0]
    assert item.accepted and item.record_id, item
    return item.record_id


@pytest.mark.parametrize("path", USER_PAGES + STAFF_PAGES)
def test_pages_need_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


def test_user_pages_render_accessibly(user_client: TestClient) -> None:
    for path in USER_PAGES:
        response = user_client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert '<html lang="en">' in html
        assert '<main id="main"' in html and "<header" in html and "<footer" in html
        assert response.headers["cache-control"] == "no-store"
        for field in re.findall(r'<input[^>]+id="([^"]+)"', html):
            assert f'for="{field}"' in html, f"{path}: input {field} has no label"


def test_home_shows_cards_switches_and_notices(
    deployment: Deployment, user_client: TestClient
) -> None:
    html = user_client.get("/").text
    market = deployment.charter.gate.subject(deployment.demo.user.account_id or "").market
    for service in deployment.charter.catalog:
        shown = f'id="service-{service.id}"' in html
        assert shown == service.markets.includes(market), service.id
    assert "Pay" not in re.findall(r"<h3[^>]*>([^<]+)</h3>", html)  # India only
    for key in (
        "system.user_experience_program",
        "system.usage_diagnostics",
        "system.personalized_ads",
    ):
        assert f'data-key="{key}"' in html
    assert 'role="switch"' in html and "Search History" in html
    assert "Demo deployment" in html


def test_staff_pages_render_for_staff_only(
    user_client: TestClient, staff_client: TestClient
) -> None:
    for path in STAFF_PAGES:
        assert staff_client.get(path).status_code == 200, path
        refused = user_client.get(path)
        assert refused.status_code == 403, path
        assert "for Privacy Center staff" in refused.text
    paper = staff_client.get("/admin/catalog/themes").text
    assert 'class="inventory"' in paper and "Identification Qualifier" in paper


def test_csrf_is_enforced(deployment: Deployment, user_client: TestClient) -> None:
    subject = deployment.demo.user.account_id or ""
    for token in (None, "forged"):
        data = {"key": "themes.personalization", "value": "off"}
        if token:
            data["csrf"] = token
        response = user_client.post("/switches", data=data)
        assert response.status_code == 303
        assert "form has expired" in flash(user_client)
    assert deployment.charter.gate.switches(subject)["themes.personalization"] is True
    signin = TestClient(deployment.app, base_url="https://testserver", follow_redirects=False)
    response = signin.post("/signin", data={"identifier": "x@example.org", "password": "y"})
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_switch_off_refuses_collection(deployment: Deployment, user_client: TestClient) -> None:
    subject = deployment.demo.user.account_id or ""
    event = Event(subject, "themes", "search_history", Purpose.PERSONALIZATION, {"q": "x"})
    assert deployment.charter.gate.collect([event], actor="service:themes").items[0].accepted
    response = post(user_client, "/switches", {"key": "themes.personalization", "value": "off"})
    assert response.status_code == 303 and response.headers["location"] == "/#service-themes"
    assert "Personalized recommendations is now off" in flash(user_client)
    item = deployment.charter.gate.collect([event], actor="service:themes").items[0]
    assert not item.accepted
    post(user_client, "/switches", {"key": "system.usage_diagnostics", "value": "off"})
    assert deployment.charter.gate.switches(subject)["system.usage_diagnostics"] is False
    post(user_client, "/switches", {"key": "pay.authorization", "value": "on"})  # not offered in de
    assert "no such service here" in flash(user_client).lower()


def test_turning_a_service_on_records_consent(
    deployment: Deployment, user_client: TestClient
) -> None:
    subject = deployment.demo.user.account_id or ""
    rights = Rights(deployment.charter.gate)
    assert not [r for r in rights.consents.records(subject) if r.scope == "app_vault"]
    post(user_client, "/switches", {"key": "app_vault.authorization", "value": "on"})
    records = [r for r in rights.consents.records(subject) if r.scope == "app_vault"]
    assert len(records) == 1 and records[0].method == "privacy_center"
    assert deployment.charter.gate.switches(subject)["app_vault.authorization"] is True
    before = len(rights.consents.records(subject))
    post(user_client, "/consents", {"scope": "general"}, page="/policies/general")
    assert len(rights.consents.records(subject)) == before + 1


def test_download_is_single_use_and_complete(
    deployment: Deployment, user_client: TestClient
) -> None:
    subject = deployment.demo.user.account_id or ""
    plant(deployment, subject, "PLANTED-web-42")
    response = post(user_client, "/export", {})
    assert response.status_code == 303 and response.headers["location"] == "/#download"
    assert "Your copy is ready" in flash(user_client)
    response = post(user_client, "/download", {})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "index.html" in archive.namelist()
        assert b"PLANTED-web-42" in archive.read("services/themes.json")
    again = post(user_client, "/download", {})
    assert again.status_code == 303
    assert "no download waiting" in flash(user_client)


def test_withdraw_and_delete_service_data(deployment: Deployment, user_client: TestClient) -> None:
    subject = deployment.demo.user.account_id or ""
    rights = Rights(deployment.charter.gate)
    refused = post(user_client, "/services/themes/withdraw", {})
    assert refused.status_code == 303 and "Tick the box" in flash(user_client)
    post(user_client, "/services/themes/withdraw", {"confirm": "yes"})
    assert "Consent to Themes withdrawn" in flash(user_client)
    assert deployment.charter.gate.switches(subject)["themes.authorization"] is False
    assert [c for c in rights.devices.pending(subject_id=subject) if c.service == "themes"]
    assert "delete service data" in user_client.get("/devices").text
    post(user_client, "/services/browser/delete", {"confirm": "yes"})
    assert "records of Mi Browser deleted" in flash(user_client)
    html = user_client.get("/").text
    browser_card = html.split('id="service-browser"')[1].split("</article>")[0]
    assert "We hold no data of yours" in browser_card


def test_requests_complaints_and_staff_queue(
    deployment: Deployment, user_client: TestClient, staff_client: TestClient
) -> None:
    post(
        user_client,
        "/requests",
        {"kind": "complain", "service": "video", "message": "Too many ads"},
        page="/requests",
    )
    assert "Your request was filed" in flash(user_client, "/requests")
    refused = post(
        user_client, "/requests", {"kind": "complain", "message": "  "}, page="/requests"
    )
    assert refused.status_code == 400
    assert "describe your complaint" in refused.text.lower()
    queue = staff_client.get("/admin/requests").text
    ids = re.findall(r'href="/admin/requests/(rq_[0-9a-f]{32})"', queue)
    assert len(ids) >= 3  # two demo requests and the new complaint
    rights = Rights(deployment.charter.gate)
    mine = next(r for r in rights.requests.queue() if r.service == "video")
    detail = staff_client.get(f"/admin/requests/{mine.id}").text
    assert "Too many ads" in detail and "days left" in detail
    assert "Complaint · Mi Video" in user_client.get("/requests").text  # the name, not the id
    page = f"/admin/requests/{mine.id}"
    post(staff_client, f"{page}/assign", {"staff": "nobody-here"}, page=page)
    assert "no staff member has this handle" in flash(staff_client, page).lower()
    assert rights.requests.get(mine.id).assigned_to is None  # refused: nothing changed
    post(staff_client, f"{page}/assign", {"staff": ""}, page=page)
    assert "assigned to demo-staff by staff:demo-staff" in staff_client.get(page).text
    post(staff_client, f"{page}/answer", {"text": "We turned them down for you."}, page=page)
    post(staff_client, f"{page}/close", {"outcome": "fulfilled"}, page=page)
    assert rights.requests.get(mine.id).state.value == "closed"
    assert rights.requests.get(mine.id).assigned_to == "demo-staff"
    mine_page = user_client.get("/requests").text
    assert "We turned them down for you." in mine_page and "closed" in mine_page
    assert user_client.get(page).status_code == 403


def test_other_peoples_things_are_out_of_reach(
    deployment: Deployment, user_client: TestClient, new_client: Callable[[], TestClient]
) -> None:
    accounts = deployment.accounts
    other_password = "another quiet harbour morning"
    other = accounts.create("someone.else@example.net", other_password, "fr")
    outcome = accounts.login(
        "someone.else@example.net", other_password, device=DeviceInfo("dev-other", "Other phone")
    )
    if outcome.status == "step_up":
        accounts.complete_login(
            outcome.challenge_id or "",
            code=last_code(deployment.outbox, "someone.else@example.net"),
        )
    (device,) = accounts.devices(other)
    post(user_client, f"/devices/{device['id']}/remove", {}, page="/devices")
    assert "no such device" in flash(user_client, "/devices").lower()
    assert accounts.devices(other)
    rights = Rights(deployment.charter.gate)
    theirs = rights.requests.file(other, "complain", message="private words")
    assert "private words" not in user_client.get("/requests").text
    assert user_client.get(f"/admin/requests/{theirs.id}").status_code == 403
    intruder = new_client()
    sign_in(intruder, deployment.outbox, "someone.else@example.net", other_password)
    assert "Demo user" not in intruder.get("/").text


def test_delete_account(
    deployment: Deployment, user_client: TestClient, new_client: Callable[[], TestClient]
) -> None:
    user = deployment.demo.user
    subject = user.account_id or ""
    record = plant(deployment, subject, "PLANTED-delete-7")
    post(
        user_client,
        "/account/delete",
        {"password": "wrong password here!", "confirm": "yes"},
        page="/account/delete",
    )
    assert "password is wrong" in flash(user_client, "/account/delete")
    response = post(
        user_client,
        "/account/delete",
        {"password": user.password or "", "confirm": "yes"},
        page="/account/delete",
    )
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert "deleted" in flash(user_client, "/signin")
    assert user_client.get("/").status_code == 303
    again = new_client()
    page = again.get("/signin")
    failed = again.post(
        "/signin",
        data={"identifier": user.identifier, "password": user.password, "csrf": csrf_of(page.text)},
    )
    assert failed.status_code == 401 and "password is wrong" in failed.text
    report = Rights(deployment.charter.gate).verify_erasure(
        subject, record_ids=[record], markers=["PLANTED-delete-7"]
    )
    assert report.clean, report


def test_audit_register_and_transparency(staff_client: TestClient) -> None:
    audit = staff_client.get("/admin/audit").text
    assert "Database: control" in audit and "Database: eu" in audit
    assert "@example" not in audit
    token = csrf_of(audit)
    verified = staff_client.post("/admin/audit/verify", data={"csrf": token})
    assert verified.status_code == 200
    assert (
        verified.text.count("intact") >= 2
        and "problem" not in verified.text.split("chain-results")[1].split("</table>")[0]
    )
    post(
        staff_client,
        "/admin/gov",
        {
            "received_on": "2026-03-01",
            "authority": "Federal Police",
            "country": "DE",
            "kind": "user_data",
            "accounts_affected": "3",
            "outcome": "rejected",
        },
        page="/admin/gov",
    )
    assert "Federal Police" in staff_client.get("/admin/gov").text
    html = staff_client.get("/admin/transparency/2026")
    assert html.status_code == 200 and "Federal Police" in html.text
    csv = staff_client.get("/admin/transparency/2026?format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "de" in csv.text.lower()
    bad = post(
        staff_client,
        "/admin/gov",
        {
            "received_on": "yesterday",
            "authority": "X",
            "country": "DE",
            "kind": "user_data",
            "accounts_affected": "1",
            "outcome": "rejected",
        },
        page="/admin/gov",
    )
    assert bad.status_code == 303 and "ISO date" in flash(staff_client, "/admin/gov")


def test_errors_are_readable_pages(user_client: TestClient, staff_client: TestClient) -> None:
    for client, path in (
        (user_client, "/policies/nope"),
        (staff_client, "/admin/catalog/nope"),
        (staff_client, "/admin/requests/rq_bad"),
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "Traceback" not in response.text and "Not found" in response.text


def test_session_cookie_is_an_opaque_id_and_the_session_lives_on_the_server(
    deployment: Deployment, user_client: TestClient
) -> None:
    cookie = next(c for c in user_client.cookies.jar if c.name == COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.secure
    value = cookie.value or ""
    assert value.startswith("bs_") and len(value) < 64
    for secret in (deployment.demo.user.identifier, deployment.demo.user.account_id or "-"):
        assert secret not in value
    with deployment.charter.stores.control().connect() as conn:
        rows = conn.execute(select(browser_sessions)).all()
    assert rows, "the session is kept on the server"
    for row in rows:  # neither the cookie value nor readable contents in the database
        assert value not in row.id and value.encode() not in row.data
        assert b"csrf" not in row.data and b"flash" not in row.data
    set_cookie = user_client.get("/").headers.get("set-cookie", "")
    assert set_cookie == "" or (
        "httponly" in set_cookie.lower() and "samesite=lax" in set_cookie.lower()
    )
    forged = TestClient(deployment.app, base_url="https://testserver", follow_redirects=False)
    forged.cookies.set(COOKIE, value[:-3] + "AAA")
    assert forged.get("/").status_code == 303


def test_a_session_ended_elsewhere_signs_the_browser_out(
    deployment: Deployment, user_client: TestClient
) -> None:
    assert user_client.get("/").status_code == 200
    subject = deployment.demo.user.account_id or ""
    with deployment.charter.stores.control().begin() as conn:
        ended = deployment.accounts.tokens.revoke_where(conn, subject_id=subject, why="test")
    assert ended >= 1
    response = user_client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_signing_in_issues_a_new_session_id(
    deployment: Deployment, new_client: Callable[[], TestClient]
) -> None:
    client = new_client()
    client.get("/signin")
    before = client.cookies.get(COOKIE)
    user = deployment.demo.user
    assert before and user.password
    sign_in(client, deployment.outbox, user.identifier, user.password)
    after = client.cookies.get(COOKIE)
    assert after and after != before  # no session fixation
    planted = TestClient(deployment.app, base_url="https://testserver", follow_redirects=False)
    planted.cookies.set(COOKIE, before)
    assert planted.get("/").status_code == 303


def test_seed_demo_is_idempotent(deployment: Deployment) -> None:
    from charter.demo import seed_demo  # noqa: PLC0415

    again = seed_demo(deployment.charter, accounts=deployment.accounts)
    assert not again.created and again.user.password is None


def test_sign_in_returns_to_a_recent_authorization_request_only(
    deployment: Deployment, new_client: Callable[[], TestClient]
) -> None:
    redirect = "https://band.example/cb"
    client_id = deployment.charter.oauth.clients.add("Band", [redirect]).client.client_id
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": "openid",
        "state": "s1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSsw8Z0c",
        "code_challenge_method": "S256",
    }
    user = deployment.demo.user
    assert user.password
    fresh = new_client()
    sent = fresh.get("/oauth/authorize", params=params)
    assert sent.status_code == 303 and sent.headers["location"] == "/signin"
    page = fresh.get("/signin")
    assert "Sign in to continue to Band" in page.text
    assert "form-action 'self' https://band.example" in page.headers["content-security-policy"]
    back = "/oauth/authorize?" + str(httpx.QueryParams(sorted(params.items())))
    sign_in(fresh, deployment.outbox, user.identifier, user.password, then=back)

    stale = new_client()
    stale.get("/oauth/authorize", params=params)
    browser = deployment.accounts.browser
    session = browser.load(stale.cookies.get(COOKIE))
    assert session is not None and session.reauth is not None
    session.reauth["since"] -= 16 * 60 * 1_000_000  # the person left, and comes back later
    session.dirty = True
    browser.save(session)
    sign_in(stale, deployment.outbox, user.identifier, user.password, then="/")
