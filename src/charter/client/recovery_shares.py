"""
The recovery key split among recovery contacts (Shamir's secret sharing), on the device.

The person chooses *k* of *n*: the device splits the recovery key's 32-byte secret into *n*
shares, any *k* of which give it back and *k - 1* of which tell nothing about it. The shares
are given out (printed, or read out to each contact); the server never sees them, so it
holds nothing it could combine.

**Share format, version 1** (frozen vector in ``tests/client/vectors/e2e_v1.json``): the
text ``RS1`` followed by a SLIP-0039 mnemonic (33 words, the standard Trezor's
``shamir-mnemonic`` library implements: Shamir over GF(256) with a digest share, a
RS1024 checksum per share that catches a mistyped word, one group, empty passphrase,
iteration exponent 0) of the recovery secret. A new format gets a new number.

    shares = split_recovery(code, threshold=3, count=5)   # give one to each contact
    code = combine_shares(three_of_them)                   # then ProtectedCloud.recover(code)
"""

from __future__ import annotations

import base64

from shamir_mnemonic import MnemonicError, combine_mnemonics, generate_mnemonics

from charter.client.e2e import E2EError, recovery_code

SHARE_PREFIX = "RS1"
MAX_SHARES = 16
"""SLIP-0039 allows at most 16 members in a group."""


def recovery_secret(code: str) -> bytes:
    """
    The 32-byte secret of a recovery key (``RK1-…``).

    Raises:
        E2EError: not a recovery key.
    """
    text = "".join(code.split()).upper().replace("-", "")
    if not text.startswith("RK1"):
        raise E2EError("a recovery key starts with RK1-")
    try:
        secret = base64.b32decode(text[3:] + "====")
    except ValueError:
        raise E2EError("a recovery key has 52 letters and digits 2-7 after RK1-") from None
    if len(secret) != 32:
        raise E2EError("a recovery key has 52 letters and digits 2-7 after RK1-")
    return secret


def split_recovery(code: str, *, threshold: int, count: int) -> list[str]:
    """
    Split a recovery key into ``count`` shares, any ``threshold`` of which restore it.

    Raises:
        ValueError: ``threshold`` not in 2..``count`` or ``count`` over 16 (one share alone
            would be the recovery key itself: keep that instead).
        E2EError: not a recovery key.
    """
    if not 2 <= threshold <= count <= MAX_SHARES:
        raise ValueError(
            f"choose 2 to {MAX_SHARES} recovery contacts and how many of them (at least 2) "
            "must come together"
        )
    groups = generate_mnemonics(
        1, [(threshold, count)], recovery_secret(code), b"", extendable=True, iteration_exponent=0
    )
    return [f"{SHARE_PREFIX} {words}" for words in groups[0]]


def combine_shares(shares: list[str]) -> str:
    """
    The recovery key from enough shares of it.

    Raises:
        E2EError: not format-1 shares, a mistyped word, shares of different keys, or too
            few shares (the message says how many are needed).
    """
    words = []
    for share in shares:
        parts = share.split()
        if not parts or parts[0] != SHARE_PREFIX:
            raise E2EError("a recovery share starts with RS1")
        words.append(" ".join(parts[1:]).lower())
    try:
        secret = combine_mnemonics(words, b"")
    except MnemonicError as failed:
        raise E2EError(f"these shares do not give a recovery key: {failed}") from None
    return recovery_code(secret)
