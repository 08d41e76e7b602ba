"""
Passwords: the NIST SP 800-63B policy, argon2id hashing profiles and admission control.

Storage is the gate's (inventory row ``account_password``, protection
``compound_password_hash``): argon2id over HMAC-SHA-256(pepper, password), the pepper being
the keyring's, never in the database. This module chooses the argon2 parameters the gate
uses (:func:`install_profile` on the gate's :class:`~charter.gate.PasswordHashing`), verifies a stored hash the same way the gate made it, and
bounds how many hashes run at once (:class:`HashingGate`), so a storm of sign-ins is shed
with 503 instead of exhausting memory.

Policy (NIST SP 800-63B §3.1.1.2): at least 15 characters when the password is the only
factor, 8 otherwise; up to 4,096 accepted, never truncated; Unicode NFKC-normalised; no
composition rules; refused when on the shipped list of common passwords or made of context
words (the service name, the identifier).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from charter.crypto import keyed_hash
from charter.errors import InputError
from charter.gate import PasswordHashing, protect
from charter.services.account.errors import BusyError

MIN_SINGLE_FACTOR = 15
MIN_MULTI_FACTOR = 8
MAX_LENGTH = 4096
CONTEXT_WORDS = ("charter", "account", "password")


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """argon2id cost parameters."""

    memory_kib: int
    time_cost: int
    parallelism: int

    def hasher(self) -> PasswordHasher:
        """A hasher with these parameters (16-byte salts, 32-byte tags, argon2id)."""
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )


PRODUCTION = Argon2Params(memory_kib=47_104, time_cost=2, parallelism=1)
"""46 MiB, t=2, p=1: above OWASP's first argon2id row (46 MiB, t=1), ~75 ms per verify on one
core here, inside the 50-250 ms the issue asks for (t=1 measured 49 ms)."""

OWASP_MINIMUMS = (
    Argon2Params(47_104, 1, 1),
    Argon2Params(19_456, 2, 1),
    Argon2Params(12_288, 3, 1),
    Argon2Params(9_216, 4, 1),
    Argon2Params(7_168, 5, 1),
)
"""OWASP Password Storage Cheat Sheet argon2id rows (memory KiB, iterations, lanes)."""

FAST_FOR_TESTS = Argon2Params(memory_kib=256, time_cost=1, parallelism=1)
"""Cheap parameters for test fixtures only; :func:`install_profile` refuses them outside pytest."""


def meets_owasp(params: Argon2Params) -> bool:
    """Whether ``params`` are at or above one of the OWASP rows."""
    return any(
        params.memory_kib >= row.memory_kib and params.time_cost >= row.time_cost
        for row in OWASP_MINIMUMS
    )


def install_profile(hashing: PasswordHashing, params: Argon2Params) -> None:
    """
    Make ``hashing`` (a gate's password hashing) hash new passwords with ``params``; hashes
    made before are upgraded at the owner's next sign-in.

    Raises:
        InputError: parameters below OWASP's minimum outside a test run.
    """
    if not meets_owasp(params) and not _under_pytest():
        raise InputError("argon2 parameters below OWASP's minimum are only allowed in tests")
    hashing.use(params.hasher())


def _under_pytest() -> bool:
    return "pytest" in sys.modules and "PYTEST_CURRENT_TEST" in os.environ


def normalise(password: str) -> str:
    """The NFKC form of a password (what is checked, hashed and verified)."""
    return unicodedata.normalize("NFKC", password)


def peppered(keyring_pepper: bytes, password: str) -> str:
    """The argon2 input the gate derives from a password (see ``charter.gate.protect``)."""
    return keyed_hash(
        keyring_pepper, protect.encode_value(normalise(password)), context="password"
    ).hex()


def hash_password(hasher: PasswordHasher, password: str, pepper: bytes) -> str:
    """The argon2id string the gate would store for ``password``."""
    return hasher.hash(peppered(pepper, password))


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a password against a stored hash."""

    ok: bool
    needs_rehash: bool = False


def verify(
    hasher: PasswordHasher, stored: bytes | str, password: str, pepper: bytes
) -> Verification:
    """Check ``password`` against a stored argon2id hash made by the gate."""
    text = stored.decode("ascii") if isinstance(stored, bytes) else stored
    try:
        hasher.verify(text, peppered(pepper, password))
    except (VerificationError, InvalidHashError):
        return Verification(False)
    return Verification(True, hasher.check_needs_rehash(text))


_DUMMY: dict[tuple[int, int, int], str] = {}


def verify_dummy(hasher: PasswordHasher, password: str, pepper: bytes) -> None:
    """Spend the time of one verification, for unknown accounts (no timing difference)."""
    key = (hasher.memory_cost, hasher.time_cost, hasher.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash("charter-dummy-password-for-timing")
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher.verify(_DUMMY[key], peppered(pepper, password))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords (lower case, NFKC)."""
    text = (
        resources.files("charter.services.account")
        .joinpath("common_passwords.txt")
        .read_text("utf-8")
    )
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, *, single_factor: bool, context: tuple[str, ...] = ()) -> str:
    """
    The normalised password if it meets the policy.

    Args:
        password: as typed.
        single_factor: the password is the account's only factor (15 characters minimum).
        context: context words to refuse (parts of the identifier, the nickname).

    Raises:
        InputError: too short, too long, common, or made of context words (field ``password``).
    """
    if not isinstance(password, str):
        raise InputError("the password must be text", field="password")
    pw = normalise(password)
    minimum = MIN_SINGLE_FACTOR if single_factor else MIN_MULTI_FACTOR
    if len(pw) < minimum:
        raise InputError(
            f"use at least {minimum} characters; a few words make a good password", field="password"
        )
    if len(pw) > MAX_LENGTH:
        raise InputError(f"use at most {MAX_LENGTH} characters", field="password")
    low = pw.lower()
    if low in common_passwords() or len(set(low)) <= 2:
        raise InputError("this password is too common; choose another", field="password")
    words = [w.lower() for w in (*CONTEXT_WORDS, *context) if w and len(w) >= 4]
    stripped = low
    for word in words:
        stripped = stripped.replace(word, "")
    if len(stripped.strip("0123456789!@#$%^&*()_-+=. ")) < 4:
        raise InputError(
            "the password must not be built from your identifier or the service name",
            field="password",
        )
    return pw


class HashingGate:
    """
    Admission control for argon2: at most ``slots`` hashes at once and ``queue`` waiting;
    beyond that, :class:`BusyError` (503) at once, so memory stays bounded.
    """

    def __init__(
        self, slots: int | None = None, queue: int | None = None, wait_seconds: float = 5.0
    ) -> None:
        self.slots = slots or max(1, os.cpu_count() or 1)
        self.queue = self.slots * 2 if queue is None else queue
        self.wait_seconds = wait_seconds
        self._sem = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self._admitted = 0
        self.shed = 0

    def __enter__(self) -> HashingGate:
        with self._lock:
            if self._admitted >= self.slots + self.queue:
                self.shed += 1
                raise BusyError()
            self._admitted += 1
        if not self._sem.acquire(timeout=self.wait_seconds):
            with self._lock:
                self._admitted -= 1
                self.shed += 1
            raise BusyError()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sem.release()
        with self._lock:
            self._admitted -= 1
