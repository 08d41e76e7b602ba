"""T12: TOTP (RFC 6238) — vectors, window, replay (also under concurrency), seeds at rest,
recovery codes."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pyotp
import pytest

from charter.errors import AuthError
from charter.services.account import DeviceInfo, StepUpRequiredError, totp
from support.accounts import HUMAN, PASSWORD, make_account

MICROS = 1_000_000
RFC_SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC_VECTORS = [  # RFC 6238 Appendix B
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


def test_rfc6238_vectors() -> None:
    checked = 0
    for t, *codes in RFC_VECTORS:
        for digest, code in zip(("sha1", "sha256", "sha512"), codes, strict=True):
            seed = base64.b32encode(RFC_SEEDS[digest]).decode()
            step = totp.matching_step(seed, code, t, digest=digest, digits=8)
            assert step == t // 30
            checked += 1
    print(f"totp_vectors: {checked}")


def enable(accounts, alice, clock) -> str:
    session = accounts.authenticate(alice.tokens.access_token)
    seed, _ = accounts.begin_totp(session)
    codes = accounts.confirm_totp(session, pyotp.TOTP(seed).at(clock.now // MICROS))
    assert len(codes) == 10
    clock.advance(micros=30 * MICROS)
    return seed


def test_window_is_one_step_and_replays_fail(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    seed = enable(accounts, alice, clock)
    now = clock.now // MICROS
    t = pyotp.TOTP(seed)
    assert accounts.verify_totp(alice.id, t.at(now))
    assert not accounts.verify_totp(alice.id, t.at(now))  # same window: replay
    clock.advance(micros=90 * MICROS)
    now = clock.now // MICROS
    assert not accounts.verify_totp(alice.id, t.at(now - 61))  # 3 steps back
    assert not accounts.verify_totp(alice.id, t.at(now + 61))
    assert accounts.verify_totp(alice.id, t.at(now - 29)) or accounts.verify_totp(
        alice.id, t.at(now + 29)
    )
    clock.advance(micros=120 * MICROS)
    now = clock.now // MICROS
    assert accounts.verify_totp(alice.id, t.at(now + 29))


def test_two_hundred_concurrent_double_submissions_exactly_one_success(
    accounts, sender, clock
) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    seed = enable(accounts, alice, clock)
    t = pyotp.TOTP(seed)
    anomalies = 0
    for _ in range(200):
        clock.advance(micros=30 * MICROS)
        code = t.at(clock.now // MICROS)
        barrier = threading.Barrier(2)
        results: list[bool] = []

        def submit(
            code: str = code, barrier: threading.Barrier = barrier, results: list[bool] = results
        ) -> None:
            barrier.wait()
            results.append(accounts.verify_totp(alice.id, code))

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        anomalies += results.count(True) != 1
    print(f"totp_replays_accepted: {anomalies} of 200 trials")
    assert anomalies == 0


def test_seed_is_never_plaintext_in_the_database(accounts, sender, clock, tmp_path: Path) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    seed = enable(accounts, alice, clock)
    raw = base64.b32decode(seed)
    needles = [seed.encode(), raw, raw.hex().encode(), base64.b64encode(raw)]
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), path.name


def test_recovery_codes_are_one_time_and_hashed(accounts, sender, clock, tmp_path: Path) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    session = accounts.authenticate(alice.tokens.access_token)
    seed, _ = accounts.begin_totp(session)
    codes = accounts.confirm_totp(session, pyotp.TOTP(seed).at(clock.now // MICROS))
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert not any(c.encode() in path.read_bytes() for c in codes)
    outcome = accounts.login(
        alice.email, PASSWORD, device=DeviceInfo("new", "N"), ip="192.0.2.10", signals=HUMAN
    )
    assert (
        accounts.complete_login(outcome.challenge_id or "", recovery_code=codes[0].upper()).status
        == "ok"
    )
    outcome = accounts.login(
        alice.email, PASSWORD, device=DeviceInfo("new2", "N"), ip="192.0.2.10", signals=HUMAN
    )
    with pytest.raises(AuthError):
        accounts.complete_login(outcome.challenge_id or "", recovery_code=codes[0])


def test_second_factor_guesses_are_bounded(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    enable(accounts, alice, clock)
    outcome = accounts.login(
        alice.email, PASSWORD, device=DeviceInfo("new", "N"), ip="192.0.2.10", signals=HUMAN
    )
    tries = 0
    for guess in range(20):
        try:
            accounts.complete_login(outcome.challenge_id or "", totp_code=f"{guess:06d}")
        except AuthError:
            tries += 1
    assert tries == 20
    assert accounts.status(alice.id)["two_step"]


def test_disabling_two_step_needs_step_up_and_a_code(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    seed = enable(accounts, alice, clock)
    clock.advance(micros=600 * MICROS)
    pair = accounts.refresh(alice.tokens.refresh_token)
    stale = accounts.authenticate(pair.access_token)
    with pytest.raises(StepUpRequiredError):
        accounts.disable_two_step(stale, pyotp.TOTP(seed).at(clock.now // MICROS))
    accounts.reauthenticate(stale, PASSWORD, pyotp.TOTP(seed).at(clock.now // MICROS))
    clock.advance(micros=30 * MICROS)
    accounts.disable_two_step(
        accounts.authenticate(pair.access_token), pyotp.TOTP(seed).at(clock.now // MICROS)
    )
    assert not accounts.status(alice.id)["two_step"]
