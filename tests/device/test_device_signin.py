"""
Setting a device up with the account's email and password, over real HTTP: the sign-in's
step-up answered (a code sent to the person; a TOTP code with 2-step verification) or
refused with a clear message when it cannot be answered; the device renews its access token
by itself with the refresh token, and asks to sign in again once the session has ended.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyotp
import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.client import ApiError
from charter.client.account import StepUpAnswer, StepUpRequiredError
from charter.device import Device
from charter.device.hardware import HARDWARE
from charter.device.keys import FileKeys
from charter.device.session import sign_in
from charter.errors import AuthError
from charter.services.account import FAST_FOR_TESTS, AccountService, HashingGate, MemorySender
from charter.testing import FakeClock
from support.accounts import PASSWORD, make_account
from support.live import Served, listening_socket

DEVICE_PASSWORD = "device-pass-1"
MICROS = 1_000_000


@pytest.fixture
def sender() -> MemorySender:
    return MemorySender()


@pytest.fixture
def accounts(charter: Charter, sender: MemorySender) -> AccountService:
    return AccountService(
        charter.gate, sender=sender, profile=FAST_FOR_TESTS, hashing=HashingGate(slots=2, queue=8)
    )


@pytest.fixture
def account_server(charter: Charter, accounts: AccountService) -> Iterator[str]:
    """The deployment over HTTP with the test account service (codes kept in memory)."""
    sock, url = listening_socket()
    with Served(sock, create_app(dataclasses.replace(charter, accounts=accounts))):
        yield url


def _device(folder: Path, url: str, clock: FakeClock, access: str, refresh: str) -> Device:
    return Device.create(
        folder,
        password=DEVICE_PASSWORD,
        server=url,
        token=access,
        refresh_token=refresh,
        device_id="ana-phone",
        clock=clock,
        keys=FileKeys(folder),
    )


def test_a_new_user_enrols_with_email_and_password_and_the_code_sent(
    account_server: str,
    accounts: AccountService,
    sender: MemorySender,
    charter: Charter,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    ana = make_account(accounts, sender, "ana@example.org")
    asked: list[Sequence[str]] = []

    def answer(methods: Sequence[str]) -> StepUpAnswer:
        asked.append(methods)
        return StepUpAnswer(code=sender.last_code("ana@example.org"))

    # A new device: the server steps up; without a way to answer, a clear refusal.
    with pytest.raises(StepUpRequiredError) as refused:
        sign_in(account_server, "ana@example.org", PASSWORD, device_id="ana-phone")
    assert "second step" in str(refused.value) and refused.value.methods == ("code",)
    with pytest.raises(ApiError) as wrong:
        sign_in(account_server, "ana@example.org", "not the password", answer=answer)
    assert wrong.value.status == 401 and asked == []

    tokens = sign_in(
        account_server, "ana@example.org", PASSWORD, answer=answer, device_id="ana-phone"
    )
    assert asked == [["code"]] and tokens.account_id == ana.id
    phone = _device(
        tmp_path / "phone", account_server, clock, tokens.access_token, tokens.refresh_token
    )
    try:
        assert phone.config["subject_id"] == ana.id
        assert "ana-phone" in charter.rights.devices.devices(ana.id)
        # Neither token is in a plain file of the device (they live in the encrypted space).
        for f in (tmp_path / "phone").rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                assert tokens.access_token.encode() not in data
                assert tokens.refresh_token.encode() not in data

        # The access token lives 10 minutes: the device renews it by itself.
        clock.advance(seconds=601)
        assert phone.poll() == []
        assert phone.session.renewed == 1
        clock.advance(seconds=601)
        phone.poll()
        assert phone.session.renewed == 2

        # The session idles out after an hour: the device asks to sign in again.
        clock.advance(seconds=3601)
        with pytest.raises(AuthError) as ended:
            phone.poll()
        assert ended.value.code == "signed_out" and "sign in again" in ended.value.message
        phone.sign_in("ana@example.org", PASSWORD, answer=answer)
        assert phone.poll() == []
    finally:
        phone.close()


def test_two_step_verification_is_answered_with_a_totp_code(
    account_server: str,
    accounts: AccountService,
    sender: MemorySender,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    ana = make_account(accounts, sender, "ana@example.org")
    session = accounts.authenticate(ana.tokens.access_token)
    seed, _ = accounts.begin_totp(session)
    accounts.confirm_totp(session, pyotp.TOTP(seed).at(clock.now // MICROS))
    clock.advance(seconds=30)
    asked: list[Sequence[str]] = []

    def answer(methods: Sequence[str]) -> StepUpAnswer:
        asked.append(methods)
        return StepUpAnswer(totp=pyotp.TOTP(seed).at(clock.now // MICROS))

    tokens = sign_in(account_server, "ana@example.org", PASSWORD, answer=answer)
    assert asked == [["totp", "recovery_code", "approval"]]
    phone = _device(
        tmp_path / "phone", account_server, clock, tokens.access_token, tokens.refresh_token
    )
    try:
        assert phone.config["subject_id"] == ana.id
    finally:
        phone.close()


def test_a_factory_reset_needs_the_account_password_the_server_verifies(
    account_server: str,
    accounts: AccountService,
    sender: MemorySender,
    charter: Charter,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    make_account(accounts, sender, "ana@example.org")
    tokens = sign_in(
        account_server,
        "ana@example.org",
        PASSWORD,
        answer=lambda methods: StepUpAnswer(code=sender.last_code("ana@example.org")),
        device_id="ana-phone",
    )
    folder = tmp_path / "phone"
    phone = _device(folder, account_server, clock, tokens.access_token, tokens.refresh_token)
    phone.owner.put("notes", "n1", b"keep me")
    files = sorted(str(f) for f in folder.rglob("*") if f.is_file())
    try:
        for wrong in ("not the password", DEVICE_PASSWORD):  # the device's own is not enough
            with pytest.raises(AuthError) as refused:
                phone.factory_reset(wrong)
            assert refused.value.code == "account_password_refused"
        assert phone.owner.get("notes", "n1") == b"keep me"  # nothing was wiped
        assert sorted(str(f) for f in folder.rglob("*") if f.is_file()) == files
        phone.factory_reset(PASSWORD)
    finally:
        phone.close()
    assert [f.name for f in folder.rglob("*") if f.is_file()] == [HARDWARE]

    # A device set up with a bare token holds no account session: the server cannot check
    # the password against it, so the reset is refused: sign in with the password first.
    bare = Device.create(
        tmp_path / "bare",
        password=DEVICE_PASSWORD,
        server=account_server,
        token=charter.credentials.issue_user_token(tokens.account_id or "", actor="t").secret,
        device_id="ana-bare",
        clock=clock,
        keys=FileKeys(tmp_path / "bare"),
    )
    try:
        with pytest.raises(AuthError) as refused:
            bare.factory_reset(PASSWORD)
        assert refused.value.code == "signed_out" and "sign in" in refused.value.message
        assert (tmp_path / "bare" / "owner.db").exists()
    finally:
        bare.close()
