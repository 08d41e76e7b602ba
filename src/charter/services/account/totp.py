"""
Time-based one-time passwords (RFC 6238, with pyotp) and one-time recovery codes.

Seeds are 160 random bits from the OS CSPRNG, encrypted at rest (:class:`~.keys.CredentialCipher`).
A code is accepted in a window of one 30-second step either side; each accepted step is
recorded atomically (``last_step`` only grows), so the same code — or any older one — is
refused the second time, even when two requests race. Recovery codes are 60 random bits
each, stored as keyed hashes and spent atomically.
"""

from __future__ import annotations

import base64
import hmac
import secrets

import pyotp

STEP_SECONDS = 30
WINDOW = 1
DIGITS = 6
SEED_BYTES = 20
RECOVERY_CODES = 10
ISSUER = "Charter"


def new_seed() -> str:
    """A fresh base32 TOTP seed of 160 bits."""
    return base64.b32encode(secrets.token_bytes(SEED_BYTES)).decode("ascii")


def provisioning_uri(seed: str, label: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans (label: the account id, not an email)."""
    return pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=label, issuer_name=ISSUER
    )


def matching_step(
    seed: str, code: str, now_seconds: float, *, digest: str = "sha1", digits: int = DIGITS
) -> int | None:
    """
    The time step ``code`` belongs to within ±:data:`WINDOW` steps of now, or None.

    Args:
        digest: ``sha1`` (authenticator apps), ``sha256`` or ``sha512``.
    """
    if not isinstance(code, str) or len(code) != digits or not code.isdigit():
        return None
    totp = pyotp.TOTP(
        seed, digits=digits, digest=getattr(__import__("hashlib"), digest), interval=STEP_SECONDS
    )
    current = int(now_seconds // STEP_SECONDS)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Fresh recovery codes, ``xxxx-xxxx-xxxx`` in lower-case base32 (60 bits each)."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12].lower()
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def canonical_recovery_code(code: str) -> str:
    """A recovery code as typed, reduced to its canonical form."""
    cleaned = "".join(ch for ch in str(code).lower() if ch.isalnum())[:12]
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"
