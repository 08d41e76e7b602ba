"""
``charter device init``, ``run`` and ``privacy-report`` through Typer's runner against a
served server: a new user signs in with email, password and a TOTP code (a sign-in that
needs a second step is refused under ``--no-input`` and leaves nothing), one round of
``run --once`` carries out a withdrawal and confirms it, and the privacy report exports
NDJSON.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from typer.testing import CliRunner

from charter.app import Charter
from charter.asgi import create_app
from charter.cli import app
from charter.device import Device, Grant, Manifest
from charter.errors import CharterError
from charter.services.account import FAST_FOR_TESTS, AccountService, HashingGate, MemorySender
from charter.testing import FakeClock
from support.accounts import PASSWORD, make_account
from support.live import Served, listening_socket

MICROS = 1_000_000
EMAIL = "ana@example.org"


@pytest.fixture
def sender() -> MemorySender:
    return MemorySender()


@pytest.fixture
def accounts(charter: Charter, sender: MemorySender) -> AccountService:
    return AccountService(
        charter.gate, sender=sender, profile=FAST_FOR_TESTS, hashing=HashingGate(slots=2, queue=8)
    )


@pytest.fixture
def cli_server(charter: Charter, accounts: AccountService) -> Iterator[str]:
    sock, url = listening_socket()
    with Served(sock, create_app(dataclasses.replace(charter, accounts=accounts))):
        yield url


def test_init_run_and_privacy_report_from_the_command_line(
    cli_server: str,
    charter: Charter,
    accounts: AccountService,
    sender: MemorySender,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # key files
    ana = make_account(accounts, sender, EMAIL)
    session = accounts.authenticate(ana.tokens.access_token)
    seed, _ = accounts.begin_totp(session)
    accounts.confirm_totp(session, pyotp.TOTP(seed).at(clock.now // MICROS))
    clock.advance(seconds=30)
    runner = CliRunner()
    folder = tmp_path / "phone"
    init = ["device", "init", "--server", cli_server, "--device-dir", str(folder)]
    sign = ["--email", EMAIL, "--account-password", PASSWORD, "--password", "device-pass-1"]

    refused = runner.invoke(app, [*init, *sign, "--no-input"])
    assert refused.exit_code != 0 and isinstance(refused.exception, CharterError)
    assert "second step" in str(refused.exception) and "totp" in str(refused.exception)
    assert not folder.exists() or not any(folder.iterdir())

    code = pyotp.TOTP(seed).at(clock.now // MICROS)
    done = runner.invoke(app, [*init, *sign, "--device-id", "cli-phone"], input=code + "\n")
    assert done.exit_code == 0, done.output
    assert "enrolled device cli-phone" in done.output and "keys: file" in done.output
    assert "cli-phone" in charter.rights.devices.devices(ana.id)

    with Device(folder) as phone:
        phone.owner.put("themes", "wallpaper", b"sunset")
        phone.owner.apps.install(
            Manifest.parse(
                {"app": "com.example.maps", "permissions": {"location": "app_functionality"}},
                frozenset({"app_functionality"}),
            )
        )
        phone.owner.apps.grant("com.example.maps", "location", Grant.WHILE_IN_USE)
        phone.owner.apps.use_permission("com.example.maps", "location", foreground=True)
    answer = httpx.post(
        f"{cli_server}/v1/me/withdrawals",
        json={"service": "themes"},
        headers={"Authorization": f"Bearer {ana.tokens.access_token}"},
    )
    assert answer.status_code == 200, answer.text

    ran = runner.invoke(app, ["device", "run", "--device-dir", str(folder), "--once"])
    assert ran.exit_code == 0, ran.output
    assert "1 commands done" in ran.output
    pending = charter.rights.devices.pending(subject_id=ana.id)
    assert "cli-phone" not in {c.device_id for c in pending}  # confirmed (the account's
    # phone from its first sign-in has its own command waiting)
    with Device(folder) as phone:
        assert phone.owner.keys("themes") == []

    export = tmp_path / "report.ndjson"
    report = runner.invoke(
        app, ["device", "privacy-report", "--device-dir", str(folder), "--export", str(export)]
    )
    assert report.exit_code == 0, report.output
    assert "com.exam" in report.output and "Clipboard reads: 0" in report.output
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert [(x["category"], x["kind"]) for x in lines] == [
        ("location", "intervalBegin"),
        ("location", "intervalEnd"),
    ]


def test_init_needs_a_way_to_sign_in(cli_server: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["device", "init", "--server", cli_server, "--device-dir", str(tmp_path / "d"),
         "--password", "device-pass-1"],
    )  # fmt: skip
    assert result.exit_code != 0 and isinstance(result.exception, CharterError)
    assert "--email" in str(result.exception) and "--token" in str(result.exception)
