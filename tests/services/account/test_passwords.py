"""T8 (password storage) and T21 (password policy)."""

from __future__ import annotations

import base64
import os
import threading
import unicodedata
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from charter.errors import AuthError, InputError
from charter.gate import PasswordHashing
from charter.services.account import passwords
from charter.services.account.errors import BusyError
from charter.services.account.records import AccountRecords
from support.accounts import HUMAN, PASSWORD, PHONE, make_account


def test_production_parameters_meet_owasp_and_the_hash_format() -> None:
    params = passwords.PRODUCTION
    assert passwords.meets_owasp(params)
    assert params.memory_kib >= 19_456
    encoded = params.hasher().hash("x")
    assert encoded.startswith(
        f"$argon2id$v=19$m={params.memory_kib},t={params.time_cost},p={params.parallelism}$"
    )
    print(f"argon2_params: m={params.memory_kib} KiB, t={params.time_cost}, p={params.parallelism}")


def test_salts_are_16_bytes_and_never_repeat() -> None:
    hasher = passwords.FAST_FOR_TESTS.hasher()
    salts = set()
    for _ in range(10_000):
        salt_b64 = hasher.hash("same password").split("$")[4]
        salt = base64.b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
        assert len(salt) >= 16
        salts.add(salt)
    assert len(salts) == 10_000


def test_stored_hash_needs_the_pepper(accounts, sender, charter) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    stored = AccountRecords(charter.gate).password_hash(alice.id)
    assert stored is not None and stored.startswith(b"$argon2id$v=19$")
    hasher = PasswordHasher()
    with pytest.raises(VerificationError):
        hasher.verify(stored.decode(), PASSWORD)  # a dump alone cannot check a guess
    assert passwords.verify(
        charter.gate.passwords.hasher, stored, PASSWORD, charter.keyring.pepper
    ).ok
    assert not passwords.verify(charter.gate.passwords.hasher, stored, PASSWORD, os.urandom(32)).ok


def test_pepper_is_in_no_database_file(accounts, sender, charter, tmp_path: Path) -> None:
    make_account(accounts, sender, "alice@example.org")
    pepper = charter.keyring.pepper
    forms = [
        pepper,
        pepper.hex().encode(),
        base64.b64encode(pepper),
        base64.urlsafe_b64encode(pepper).rstrip(b"="),
    ]
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file() and path.name != "keyring.json":
            data = path.read_bytes()
            assert not any(f in data for f in forms), path.name


def test_hashes_are_upgraded_at_the_next_login(accounts, sender, charter) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    records = AccountRecords(charter.gate)
    assert b"m=256," in (records.password_hash(alice.id) or b"")
    stronger = passwords.Argon2Params(memory_kib=512, time_cost=2, parallelism=1)
    passwords.install_profile(charter.gate.passwords, stronger)
    try:
        outcome = accounts.login(
            alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN
        )
        assert outcome.status == "ok"
        assert (records.password_hash(alice.id) or b"").startswith(b"$argon2id$v=19$m=512,t=2,p=1$")
        assert len(records.read(alice.id, "account_password")) == 1
        assert (
            accounts.login(
                alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN
            ).status
            == "ok"
        )
    finally:
        passwords.install_profile(charter.gate.passwords, passwords.FAST_FOR_TESTS)


def test_fast_profile_is_refused_outside_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    hashing = PasswordHashing()
    with pytest.raises(InputError):
        passwords.install_profile(hashing, passwords.FAST_FOR_TESTS)
    passwords.install_profile(hashing, passwords.PRODUCTION)  # allowed anywhere
    assert hashing.hasher.memory_cost == passwords.PRODUCTION.memory_kib
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "x")
    passwords.install_profile(hashing, passwords.FAST_FOR_TESTS)
    assert hashing.hasher.memory_cost == passwords.FAST_FOR_TESTS.memory_kib


def test_hashing_gate_bounds_concurrency() -> None:
    gate = passwords.HashingGate(slots=2, queue=0, wait_seconds=0.1)
    entered = threading.Barrier(3)
    release = threading.Event()

    def hold() -> None:
        with gate:
            entered.wait()
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    entered.wait()
    with pytest.raises(BusyError), gate:
        pass
    release.set()
    for t in threads:
        t.join()
    with gate:
        pass
    assert gate.shed == 1


# -- T21: the policy --------------------------------------------------------------------------


def test_length_rules() -> None:
    for short in ("kitten42", "quiet river 1", "fourteen chars"):
        with pytest.raises(InputError):
            passwords.check_policy(short, single_factor=True)
    assert passwords.check_policy("quiet river 1", single_factor=False)
    with pytest.raises(InputError):
        passwords.check_policy("abc12x", single_factor=False)  # under 8, always refused
    assert (
        passwords.check_policy("amberfoxwaltzes", single_factor=True) == "amberfoxwaltzes"
    )  # 15 lower-case
    for n in (64, 128, 1000):
        pw = ("correct staple " * 100)[: n - 2] + "zq"
        assert len(passwords.check_policy(pw, single_factor=True)) == n


def test_nfkc_normalisation() -> None:
    composed = "ｆｕｌｌｗｉｄｔｈ ｐａｓｓｐｈｒａｓｅ ok"
    assert passwords.check_policy(composed, single_factor=True) == unicodedata.normalize(
        "NFKC", composed
    )


def test_every_common_password_and_context_word_is_refused() -> None:
    common = sorted(passwords.common_passwords())
    assert len(common) >= 3000
    accepted = 0
    for pw in common:
        try:
            passwords.check_policy(pw, single_factor=False)
            accepted += 1
        except InputError:
            pass
    print(f"common_passwords_accepted: {accepted} of {len(common)}")
    assert accepted == 0
    for pw in ("charteraccount2024", "alice.smith.alice.smith", "mypassword12345678"):
        with pytest.raises(InputError):
            passwords.check_policy(pw, single_factor=True, context=("alice.smith",))


def test_no_truncation_character_100_matters(accounts, sender) -> None:
    long_pw = "long passphrase " * 10
    alice = make_account(accounts, sender, "alice@example.org", password=long_pw)
    changed = long_pw[:99] + ("X" if long_pw[99] != "X" else "Y") + long_pw[100:]
    with pytest.raises(AuthError):
        accounts.login(alice.email, changed, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    assert (
        accounts.login(alice.email, long_pw, device=PHONE, ip="192.0.2.10", signals=HUMAN).status
        == "ok"
    )


def test_no_forced_expiry(accounts, sender, clock) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    clock.advance(days=800)
    assert (
        accounts.login(alice.email, PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN).status
        == "ok"
    )
