"""T9 (online guessing and enumeration) and the login environment check."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from charter.errors import AuthError, RefusedError
from charter.services.account import DeviceInfo
from charter.services.account.errors import ThrottledError
from support.accounts import HUMAN, PASSWORD, PHONE, make_account

MICROS = 1_000_000


@pytest.mark.promise("account.login_environment_check")
def test_environment_check_steps_up_new_device_new_location_and_bots(accounts, sender) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    same = accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.77", signals=HUMAN)
    assert same.status == "ok"  # known device, same /24
    scenarios = {
        "new_device": dict(device=DeviceInfo("tablet-2", "Pad 5"), ip="192.0.2.10", signals=HUMAN),
        "new_location": dict(device=PHONE, ip="203.0.113.5", signals=HUMAN),
        "bot_no_motion": dict(
            device=PHONE,
            ip="192.0.2.10",
            signals={"accelerometer": [[0, 0, 0]] * 20, "network": {"type": "wifi"}},
        ),
        "bot_no_signals": dict(device=PHONE, ip="192.0.2.10", signals=None),
    }
    for name, kwargs in scenarios.items():
        outcome = accounts.login(alice.email, PASSWORD, **kwargs)
        assert outcome.status == "step_up", name
        assert outcome.methods == ("code",)
    print(f"risk_recall: {len(scenarios)} of {len(scenarios)}")
    outcome = accounts.login(
        alice.email,
        PASSWORD,
        device=DeviceInfo("tablet-2", "Pad 5"),
        ip="192.0.2.10",
        signals=HUMAN,
    )
    done = accounts.complete_login(outcome.challenge_id or "", code=sender.last_code(alice.email))
    assert done.status == "ok"
    assert (
        accounts.login(
            alice.email,
            PASSWORD,
            device=DeviceInfo("tablet-2", "Pad 5"),
            ip="192.0.2.10",
            signals=HUMAN,
        ).status
        == "ok"
    )


def test_wrong_step_up_code_is_bounded(accounts, sender) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    outcome = accounts.login(
        alice.email, PASSWORD, device=DeviceInfo("new", "X"), ip="192.0.2.10", signals=HUMAN
    )
    code = sender.last_code(alice.email)
    for _ in range(5):
        with pytest.raises(AuthError):
            accounts.complete_login(
                outcome.challenge_id or "", code="000000" if code != "000000" else "111111"
            )
    with pytest.raises(AuthError):
        accounts.complete_login(outcome.challenge_id or "", code=code)  # out of attempts


def test_back_off_is_exponential_and_lifts(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    for _ in range(5):
        with pytest.raises(AuthError):
            accounts.login(alice.email, "wrong password guess", device=PHONE, ip="192.0.2.10")
    with pytest.raises(ThrottledError) as first:
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    clock.advance(micros=first.value.retry_after * MICROS)
    with pytest.raises(AuthError):
        accounts.login(alice.email, "wrong password guess", device=PHONE, ip="192.0.2.10")
    with pytest.raises(ThrottledError) as second:
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    assert second.value.retry_after == 2 * first.value.retry_after
    clock.advance(micros=second.value.retry_after * MICROS)
    assert (
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN).status
        == "ok"
    )


def test_at_most_100_consecutive_failures_even_over_50_ips(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    allowed = 0
    for i in range(150):
        clock.advance(micros=301 * MICROS)
        ip = f"198.51.100.{i % 50}"
        with pytest.raises(AuthError):
            accounts.login(alice.email, f"guess number {i:04d}", device=PHONE, ip=ip)
        allowed += 1
        if accounts.status(alice.id)["locked"]:
            break
    print(f"max_consecutive_failures: {allowed}")
    assert allowed == 100
    clock.advance(micros=301 * MICROS)
    with pytest.raises(AuthError):  # locked: even the right password fails, with the same answer
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    challenge = accounts.request_help(alice.email, "reset")
    accounts.reset_password(challenge, sender.last_code(alice.email), "a brand new passphrase here")
    clock.advance(micros=301 * MICROS)
    outcome = accounts.login(
        alice.email, "a brand new passphrase here", device=PHONE, ip="192.0.2.10", signals=HUMAN
    )
    assert outcome.status == "ok"


def test_unknown_account_and_wrong_password_look_the_same(client, accounts, sender, clock) -> None:
    known = [make_account(accounts, sender, f"user{i}@example.org").email for i in range(4)]
    bodies: dict[str, set[str]] = {"unknown": set(), "wrong": set()}
    statuses: dict[str, set[int]] = {"unknown": set(), "wrong": set()}
    for i in range(40):
        for kind in ("unknown", "wrong"):
            clock.advance(micros=901 * MICROS)
            identifier = known[i % 4] if kind == "wrong" else f"nobody{i}@example.org"
            body = {
                "identifier": identifier,
                "password": "not the right password",
                "device_id": "d1",
            }
            response = client.post("/v1/account/login", json=body)
            statuses[kind].add(response.status_code)
            bodies[kind].add(response.text)
    assert statuses["unknown"] == statuses["wrong"] == {401}
    assert bodies["unknown"] == bodies["wrong"] and len(bodies["wrong"]) == 1
    # Both cost one argon2 verification; how close the timings are is a benchmark figure
    # (enumeration_login_median_diff_ms in bench/account.py), never a test assertion.


def test_registration_and_reset_answers_do_not_reveal_accounts(client, accounts, sender) -> None:
    make_account(accounts, sender, "alice@example.org")
    taken = client.post(
        "/v1/account/register",
        json={
            "identifier": "alice@example.org",
            "password": "another long passphrase",
            "country": "de",
        },
    )
    free = client.post(
        "/v1/account/register",
        json={
            "identifier": "nobody@example.org",
            "password": "another long passphrase",
            "country": "de",
        },
    )
    assert taken.status_code == free.status_code == 202
    assert set(taken.json()) == set(free.json()) and taken.json()["status"] == free.json()["status"]
    for identifier in ("alice@example.org", "nobody2@example.org"):
        response = client.post("/v1/account/help/reset", json={"identifier": identifier})
        assert response.status_code == 202 and set(response.json()) == {"status", "challenge_id"}


def test_frozen_and_blocked_accounts_cannot_sign_in(accounts, sender) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    accounts.freeze(alice.id, actor="subject")
    with pytest.raises(AuthError):
        accounts.authenticate(alice.tokens.access_token)
    with pytest.raises(RefusedError) as frozen:
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    assert frozen.value.code == "account_frozen"
    challenge = accounts.request_help(alice.email, "unfreeze")
    accounts.unfreeze(challenge, sender.last_code(alice.email), PASSWORD)
    assert (
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN).status
        == "ok"
    )
    accounts.block(alice.id, actor="admin")
    with pytest.raises(RefusedError):
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    accounts.unblock(alice.id, actor="admin")
    assert (
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN).status
        == "ok"
    )


@pytest.mark.promise("account.human_check_signals_discarded")
def test_human_check_signals_never_reach_database_or_logs(
    client, accounts, sender, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice = make_account(accounts, sender, "alice@example.org")
    marker = "zq7MARKERssid41x"
    number = 7.123456789123
    signals = {
        "accelerometer": [
            [0.1, 9.8, number],
            [0.2, 9.7, 0.1],
            [0.1, 9.9, 0.3],
            [0.0, 9.8, 0.2],
            [0.3, 9.6, 0.1],
        ],
        "network": {"type": "wifi", "ssid": marker, "bssid": "02:00:00:00:01:00"},
    }
    for _ in range(3):
        response = client.post(
            "/v1/account/login",
            json={
                "identifier": alice.email,
                "password": PASSWORD,
                "device_id": PHONE.device_id,
                "signals": signals,
            },
        )
        assert response.status_code == 200
        client.post(
            "/v1/account/login",
            json={"identifier": alice.email, "password": "wrong one here", "signals": signals},
        )
    needles = []
    for text in (marker, repr(number), "02:00:00:00:01:00"):
        raw = text.encode()
        needles += [raw, text.encode("utf-16-le"), base64.b64encode(raw), raw.hex().encode()]
    hits = 0
    scanned = 0
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += len(data)
            hits += sum(data.count(n) for n in needles)
    logs = caplog.text + "".join(r.getMessage() for r in caplog.records)
    hits += sum(logs.count(n.decode("latin-1")) for n in needles)
    print(f"signal_marker_hits: {hits} in {scanned} bytes")
    assert scanned > 0 and hits == 0


def test_reset_requests_answer_the_same_for_known_and_unknown(client, accounts, sender) -> None:
    """Same status and body; the timing comparison is a benchmark figure
    (``enumeration_reset_median_diff_ms`` in ``bench/account.py``)."""
    known = make_account(accounts, sender, "alice@example.org").email
    bodies: dict[str, set[str]] = {"known": set(), "unknown": set()}
    for i in range(20):
        for kind in ("known", "unknown"):
            identifier = known if kind == "known" else f"nobody{i}@example.org"
            response = client.post("/v1/account/help/reset", json={"identifier": identifier})
            assert response.status_code == 202
            answer = response.json()
            bodies[kind].add(response.text.replace(answer["challenge_id"], "ch_ID"))
    assert bodies["known"] == bodies["unknown"] and len(bodies["known"]) == 1
