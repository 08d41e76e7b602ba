"""Helpers for the OAuth tests: the test app, a signed-in account and shared constants."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

from fastapi import FastAPI

from charter.api import errors as api_errors
from charter.api.cors import ProviderCORSMiddleware
from charter.api.routers import account as account_router
from charter.api.routers import oauth as oauth_router
from charter.app import Charter
from charter.services.account import AccountService, DeviceInfo, MemorySender
from charter.services.account.sessions import TokenPair
from charter.services.oauth import OAuthProvider

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

PASSWORD = "violet lantern quietly orbits"
HUMAN = {
    "accelerometer": [
        [0.1, 9.8, 0.2],
        [0.2, 9.7, 0.1],
        [0.1, 9.9, 0.3],
        [0.0, 9.8, 0.2],
        [0.3, 9.6, 0.1],
    ],
    "network": {"type": "wifi"},
}
PHONE = DeviceInfo("android-id-phone-1", "Phone 11")


def build_app(charter: Charter, accounts: AccountService, provider: OAuthProvider) -> FastAPI:
    """The account and OAuth routers on an app with Charter's error handling and the
    provider's CORS middleware."""
    app = FastAPI()
    app.state.charter = dataclasses.replace(charter, accounts=accounts, oauth=provider)
    api_errors.install(app)
    app.add_middleware(ProviderCORSMiddleware, allowed=provider.cors_allowed)
    app.include_router(account_router.router)
    app.include_router(oauth_router.router)
    return app


@dataclass
class Account:
    """A registered, verified, signed-in test account."""

    id: str
    email: str
    tokens: TokenPair


def make_account(
    accounts: AccountService,
    sender: MemorySender,
    email: str,
    *,
    password: str = PASSWORD,
    device: DeviceInfo = PHONE,
    ip: str = "192.0.2.10",
    country: str = "de",
) -> Account:
    """Register, confirm and sign in (answering the first sign-in's step-up)."""
    challenge = accounts.register(email, password, country)
    account_id = accounts.confirm_registration(challenge, sender.last_code(email))
    outcome = accounts.login(email, password, device=device, ip=ip, signals=HUMAN)
    if outcome.status == "step_up":
        outcome = accounts.complete_login(outcome.challenge_id or "", code=sender.last_code(email))
    assert outcome.tokens is not None
    return Account(account_id, email, outcome.tokens)


def cookie_of(client: TestClient, account: Account) -> str:
    """The browser cookie of ``account`` signed in at ``/signin`` (one per test client and
    account): a browser session bound to the account's session, as the sign-in page leaves it.
    The full sign-in through pages is tested in the browser tests."""
    state = client.app.state  # type: ignore[attr-defined]
    cache: dict[str, str] | None = getattr(state, "test_cookies", None)
    if cache is None:
        cache = state.test_cookies = {}
    if account.id not in cache:
        cache[account.id] = browser_cookie(state.charter.accounts, account.tokens)
    return cache[account.id]


def browser_cookie(accounts: AccountService, tokens: TokenPair) -> str:
    """A browser session bound to the account session of ``tokens``; its cookie value."""
    browser = accounts.browser
    session = browser.new()
    browser.sign_in(session, tokens)
    browser.save(session)
    return session.token
