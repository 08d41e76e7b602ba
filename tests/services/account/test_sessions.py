"""T10: sessions, rotation, revocation, idle and absolute limits, stale sessions, approvals."""

from __future__ import annotations

import base64

import pyotp
import pytest

from charter.errors import AuthError
from charter.services.account import DeviceInfo, StepUpRequiredError
from charter.services.account import keys as account_keys
from support.accounts import HUMAN, PASSWORD, PHONE, make_account

MICROS = 1_000_000


def test_tokens_are_unique_and_carry_at_least_128_bits() -> None:
    tokens = {account_keys.new_token("at") for _ in range(10_000)}
    assert len(tokens) == 10_000
    for token in list(tokens)[:100]:
        secret = token.split("_", 1)[1]
        assert len(base64.urlsafe_b64decode(secret + "=")) * 8 >= 128
    print("token_bits: 256")


def test_each_login_gets_new_tokens_and_refresh_rotates(accounts, sender) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    again = accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    assert again.tokens is not None
    assert (
        again.tokens.access_token != alice.tokens.access_token
        and again.tokens.session_id != alice.tokens.session_id
    )
    pair = accounts.refresh(alice.tokens.refresh_token)
    assert pair.refresh_token != alice.tokens.refresh_token
    accounts.authenticate(pair.access_token)
    with pytest.raises(AuthError):
        accounts.refresh(alice.tokens.refresh_token)  # reuse: the family dies
    for token in (pair.access_token, alice.tokens.access_token):
        with pytest.raises(AuthError):
            accounts.authenticate(token)
    with pytest.raises(AuthError):
        accounts.refresh(pair.refresh_token)
    accounts.authenticate(again.tokens.access_token)  # other sessions live on


def test_logout_password_change_and_freeze_end_sessions_at_once(accounts, sender) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    second = accounts.login(
        alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN
    ).tokens
    assert second is not None
    accounts.logout(accounts.authenticate(second.access_token))
    with pytest.raises(AuthError):
        accounts.authenticate(second.access_token)
    third = accounts.login(
        alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN
    ).tokens
    assert third is not None
    accounts.change_password(
        accounts.authenticate(alice.tokens.access_token), "an entirely new passphrase"
    )
    accounts.authenticate(alice.tokens.access_token)  # the session that changed it stays
    with pytest.raises(AuthError):
        accounts.authenticate(third.access_token)
    accounts.freeze(alice.id, actor="subject")
    with pytest.raises(AuthError):
        accounts.authenticate(alice.tokens.access_token)


def test_access_token_lifetime_and_idle_limit(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    clock.advance(micros=600 * MICROS - MICROS)
    accounts.authenticate(alice.tokens.access_token)
    clock.advance(micros=2 * MICROS)
    with pytest.raises(AuthError):
        accounts.authenticate(alice.tokens.access_token)
    clock.advance(micros=3600 * MICROS - 600 * MICROS - 2 * MICROS)  # T(idle) - 1 s after the login
    pair = accounts.refresh(alice.tokens.refresh_token)
    other = make_account(accounts, sender, "bob@example.org")
    clock.advance(micros=3600 * MICROS + MICROS)  # T(idle) + 1 s
    with pytest.raises(AuthError):
        accounts.refresh(other.tokens.refresh_token)
    with pytest.raises(AuthError):
        accounts.refresh(pair.refresh_token)


def test_absolute_limit_holds_at_24_hours(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    pair = alice.tokens
    for _ in range(28):  # refresh every 50 minutes: never idle
        clock.advance(micros=50 * 60 * MICROS)
        pair = accounts.refresh(pair.refresh_token)
    clock.advance(micros=24 * 3600 * MICROS - 28 * 50 * 60 * MICROS - MICROS)  # T - 1 s
    pair = accounts.refresh(pair.refresh_token)
    accounts.authenticate(pair.access_token)
    clock.advance(micros=2 * MICROS)  # T + 1 s
    with pytest.raises(AuthError):
        accounts.authenticate(pair.access_token)
    with pytest.raises(AuthError):
        accounts.refresh(pair.refresh_token)


def test_sensitive_operations_need_a_fresh_session(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    session = accounts.authenticate(alice.tokens.access_token)
    clock.advance(micros=601 * MICROS)
    pair = accounts.refresh(alice.tokens.refresh_token)
    stale = accounts.authenticate(pair.access_token)
    stale_accepted = 0
    for operation in (
        lambda: accounts.begin_totp(stale),
        lambda: accounts.set_recovery_contact(stale, "+49 30 1234567"),
        lambda: accounts.change_password(stale, "yet another long passphrase"),
        lambda: accounts.disable_two_step(stale, "123456"),
    ):
        try:
            operation()
            stale_accepted += 1
        except StepUpRequiredError:
            pass
    print(f"stale_acceptances: {stale_accepted}")
    assert stale_accepted == 0
    accounts.reauthenticate(stale, PASSWORD)
    fresh = accounts.authenticate(pair.access_token)
    seed, uri = accounts.begin_totp(fresh)
    assert (
        uri.startswith("otpauth://totp/") and session.subject_id in uri and alice.email not in uri
    )
    assert len(base64.b32decode(seed)) * 8 >= 160


@pytest.mark.promise("account.two_step_verification")
def test_two_step_sign_in_is_approved_from_another_device(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    phone = accounts.authenticate(alice.tokens.access_token)
    seed, _ = accounts.begin_totp(phone)
    accounts.confirm_totp(phone, pyotp.TOTP(seed).at(clock.now // MICROS))
    tablet = DeviceInfo("tablet-9", "Pad 9")
    outcome = accounts.login(alice.email, PASSWORD, device=tablet, ip="192.0.2.10", signals=HUMAN)
    assert outcome.status == "step_up" and "approval" in outcome.methods
    assert accounts.complete_login(outcome.challenge_id or "").status == "pending"
    pending = accounts.pending_approvals(alice.id)
    assert [p["id"] for p in pending] == [outcome.challenge_id]
    accounts.decide_approval(alice.id, outcome.challenge_id or "", approve=True)
    done = accounts.complete_login(outcome.challenge_id or "")
    assert done.status == "ok" and done.tokens is not None
    with pytest.raises(AuthError):
        accounts.complete_login(outcome.challenge_id or "")  # one-time
    denied = accounts.login(
        alice.email, PASSWORD, device=DeviceInfo("laptop", "L"), ip="192.0.2.10", signals=HUMAN
    )
    accounts.decide_approval(alice.id, denied.challenge_id or "", approve=False)
    with pytest.raises(AuthError):
        accounts.complete_login(denied.challenge_id or "")


def test_manage_devices_lists_and_signs_out(accounts, sender) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    devices = accounts.devices(alice.id)
    assert [d["model"] for d in devices] == ["Phone 11"] and devices[0]["signed_in"]
    accounts.remove_device(alice.id, devices[0]["id"])
    with pytest.raises(AuthError):
        accounts.authenticate(alice.tokens.access_token)
    assert accounts.devices(alice.id) == []
    again = accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    assert again.status == "step_up"  # a removed device is new again
