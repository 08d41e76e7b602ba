"""
Helpers for the Privacy Center tests (imported by tests/web modules and their conftest):
a deployment with demo data on a fast password profile, a file outbox for sign-in codes,
and sign-in through the pages.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.demo import DemoInfo, seed_demo
from charter.services.account import FAST_FOR_TESTS, AccountService, HashingGate

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["Deployment", "TestClient", "csrf_of", "deploy", "last_code", "sign_in"]

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Deployment:
    """A running Privacy Center for tests."""

    charter: Charter
    app: FastAPI
    accounts: AccountService
    demo: DemoInfo
    outbox: Path

    def cloud_on(self) -> str:
        """Switch Cloud on for the demo user, as they would on the page; their subject id."""
        subject = self.demo.user.account_id or ""
        self.charter.gate.set_switches(
            subject, {"cloud.authorization": True}, source="user", actor="subject"
        )
        return subject

    def token_for(self, subject: str) -> str:
        """A bearer token a device of ``subject`` uses over HTTP."""
        return self.charter.credentials.issue_user_token(subject, actor="test").secret


def deploy(data_dir: Path) -> Deployment:
    """A fresh deployment in ``data_dir`` with demo accounts (fast argon2, file outbox)."""
    Charter.init(data_dir)
    charter = Charter.open(
        Settings(data_dir=data_dir),
        password_profile=FAST_FOR_TESTS,
        hashing=HashingGate(slots=4, queue=64),
    )
    app = create_app(charter)
    outbox = charter.settings.outbox()
    accounts = charter.accounts
    demo = seed_demo(charter, accounts=accounts)
    return Deployment(charter, app, accounts, demo, outbox)


def last_code(outbox: Path, identifier: str, purpose: str = "login") -> str:
    """The newest code the file sender wrote for an address."""
    for line in reversed(outbox.read_text(encoding="utf-8").splitlines()):
        message = json.loads(line)
        if message["to"] == identifier and message["purpose"] == purpose:
            return str(message["code"])
    raise LookupError("no code in the outbox")


def csrf_of(html: str) -> str:
    """The CSRF token of a page's first form."""
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(
    client: TestClient, outbox: Path, identifier: str, password: str, *, then: str = "/"
) -> None:
    """Sign in through the pages, answering the step-up with the code from the outbox;
    the last answer sends the browser to ``then``."""
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={"identifier": identifier, "password": password, "csrf": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/signin/verify"
    page = client.get("/signin/verify")
    response = client.post(
        "/signin/verify",
        data={"code": last_code(outbox, identifier), "method": "code", "csrf": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == then
