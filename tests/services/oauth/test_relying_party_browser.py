"""
Sign in with Charter from a real web app, in a real browser (Debian's chromium driven by
Playwright): a relying party written with Authlib's Starlette client runs on its own loopback
port; a person goes from the app to Charter's sign-in page (with the step-up code from the
outbox), consents, comes back to the app, which verified the ID token against the JWKS and
shows the pairwise ``sub``; a second sign-in goes straight back; the app's logout ends the
Charter session too. Screenshots of each step go to ``test-artifacts/``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.services.account import FAST_FOR_TESTS, HashingGate
from charter.services.oauth.pairwise import pairwise_sub
from support.live import Served, listening_socket
from support.relying_party import relying_party

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EMAIL = "dana@example.org"
PASSWORD = "copper kettle hums at dawn"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
]


class Deployment:
    """Charter served on a loopback port whose address is its issuer, with one account and
    one registered relying party, itself served on another port."""

    def __init__(self, data_dir: Path) -> None:
        self.sock, self.url = listening_socket()
        Charter.init(data_dir)
        self.charter = Charter.open(
            Settings(data_dir=data_dir, issuer=self.url),
            password_profile=FAST_FOR_TESTS,
            hashing=HashingGate(slots=2, queue=16),
        )
        self.account_id = self.charter.accounts.create(EMAIL, PASSWORD, "de")
        self.rp_sock, self.rp_url = listening_socket()
        self.client = self.charter.oauth.clients.add(
            "Band",
            [f"{self.rp_url}/callback"],
            post_logout_redirect_uris=[f"{self.rp_url}/bye"],
        ).client
        self.outbox = self.charter.settings.outbox()

    def last_code(self, to: str = EMAIL) -> str:
        import json  # noqa: PLC0415

        for line in reversed(self.outbox.read_text(encoding="utf-8").splitlines()):
            message = json.loads(line)
            if message["to"] == to and message["purpose"] == "login":
                return str(message["code"])
        raise LookupError("no code in the outbox")


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    found = Deployment(tmp_path / "data")
    app = relying_party(found.url, found.client.client_id, found.rp_url)
    with Served(found.sock, create_app(found.charter)), Served(found.rp_sock, app):
        yield found
    found.charter.close()


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"oidc-{name}.png"), full_page=True)


def test_sign_in_with_charter_from_a_relying_party_and_log_out(
    deployment: Deployment, page: Any
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    rp, charter = deployment.rp_url, deployment.url
    page.goto(rp + "/")
    expect(page.get_by_text("Not signed in.")).to_be_visible()
    page.get_by_role("link", name="Sign in with Charter").click()

    # Charter's own sign-in page, saying which app asked
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url == charter + "/signin"
    expect(page.get_by_role("status")).to_contain_text("Sign in to continue to Band")
    shot(page, "1-signin")
    page.get_by_label("Email address or phone number").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # the login risk check: a code sent to the person
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    shot(page, "2-verify")
    page.get_by_label("Verification code").fill(deployment.last_code())
    page.get_by_role("button", name="Continue").click()

    # consent
    expect(page.get_by_role("heading", name="Allow Band to sign you in?")).to_be_visible()
    assert page.url.startswith(charter + "/oauth/authorize?")
    shot(page, "3-consent")
    page.get_by_role("button", name="Allow").click()

    # back at the app, which verified the ID token and shows the pairwise sub
    expect(page.get_by_text("Signed in as")).to_be_visible()
    assert page.url == rp + "/"
    sub = page.locator("#sub").inner_text()
    keyring = deployment.charter.keyring
    assert sub == pairwise_sub(keyring, deployment.client.sector, deployment.account_id)
    assert deployment.account_id not in page.content()
    shot(page, "4-app-signed-in")

    # signed in at Charter already, consent given: a new sign-in at the app goes straight back
    page.goto(rp + "/login")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    assert page.url == rp + "/" and page.locator("#sub").inner_text() == sub

    # the Privacy Center knows the same session
    page.goto(charter + "/")
    expect(page.get_by_role("heading", name="Your Privacy Center")).to_be_visible()

    # RP-initiated logout ends the Charter session too
    page.goto(rp + "/")
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    assert page.url.startswith(rp + "/bye")
    expect(page.locator("#state")).to_have_text("rp-state-7")
    shot(page, "5-app-signed-out")
    page.goto(charter + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url == charter + "/signin"
    shot(page, "6-charter-signed-out")


def test_a_person_signed_in_at_the_privacy_center_goes_straight_to_consent(
    deployment: Deployment, page: Any
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    rp, charter = deployment.rp_url, deployment.url
    page.goto(charter + "/signin")
    page.get_by_label("Email address or phone number").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Verification code").fill(deployment.last_code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your Privacy Center")).to_be_visible()

    page.goto(rp + "/")
    page.get_by_role("link", name="Sign in with Charter").click()
    expect(page.get_by_role("heading", name="Allow Band to sign you in?")).to_be_visible()
    page.get_by_role("button", name="Deny").click()
    expect(page.locator("#error")).to_have_text("access_denied")
    assert page.url.startswith(rp + "/callback?")

    # signing out in the Privacy Center signs the person out for the app's next request too
    page.goto(charter + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(rp + "/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url == charter + "/signin"


def test_an_account_with_two_step_verification_signs_in_to_the_app_with_its_authenticator(
    deployment: Deployment, page: Any
) -> None:
    import time  # noqa: PLC0415

    import pyotp  # noqa: PLC0415
    from playwright.sync_api import expect  # noqa: PLC0415

    accounts = deployment.charter.accounts
    email, password = "erin@example.org", "quiet harbour lamps at nine"
    account_id = accounts.create(email, password, "de")
    outcome = accounts.login(email, password)
    if outcome.status == "step_up":
        outcome = accounts.complete_login(
            outcome.challenge_id or "", code=deployment.last_code(email)
        )
    assert outcome.tokens is not None
    session = accounts.authenticate(outcome.tokens.access_token)
    seed, _uri = accounts.begin_totp(session)
    accounts.confirm_totp(session, pyotp.TOTP(seed).at(time.time() - 30))

    rp, charter = deployment.rp_url, deployment.url
    page.goto(rp + "/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address or phone number").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(page.get_by_text("2-step verification is on for your account.")).to_be_visible()
    shot(page, "2b-two-step")
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(seed).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Allow Band to sign you in?")).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    sub = page.locator("#sub").inner_text()
    assert sub == pairwise_sub(deployment.charter.keyring, deployment.client.sector, account_id)
    assert page.url == rp + "/" and charter not in page.url
