"""
The formats added for key changes, version 1: proofs (``CP 01``), earlier keys sealed under
the current one (``CK 01``) and recovery shares (``RS1`` + SLIP-0039), checked against the
frozen vectors in ``vectors/e2e_v1.json``; k shares restore the recovery key, k - 1 do not.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.client import e2e
from charter.client.recovery_shares import combine_shares, split_recovery
from charter.services.cloud.keys import seal_proof

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "e2e_v1.json").read_text(encoding="utf-8")
)


def test_the_frozen_proofs_open_for_their_device_and_recovery_key_only() -> None:
    v = VECTORS["proof"]
    device = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["device_private_hex"]))
    recovery = e2e.recovery_private_key(VECTORS["recovery"]["code"])
    assert e2e.open_proof(bytes.fromhex(v["device_sealed_hex"]), device).hex() == v["proof_hex"]
    sealed = bytes.fromhex(v["recovery_sealed_hex"])
    assert e2e.open_proof(sealed, recovery, recovery=True).hex() == v["proof_hex"]
    with pytest.raises(e2e.E2EError):  # a device proof is not a recovery proof
        e2e.open_proof(bytes.fromhex(v["device_sealed_hex"]), device, recovery=True)
    with pytest.raises(e2e.E2EError):
        e2e.open_proof(sealed, X25519PrivateKey.generate(), recovery=True)
    # what the server seals today opens the same way
    public = e2e.public_bytes(device.public_key()).hex()
    fresh = seal_proof(bytes.fromhex(v["proof_hex"]), public)
    assert fresh[:3] == b"CP\x01" and e2e.open_proof(fresh, device).hex() == v["proof_hex"]


def test_the_earlier_keys_are_byte_for_byte_the_frozen_ones() -> None:
    v = VECTORS["previous"]
    key = bytes.fromhex(VECTORS["category_key_hex"])
    earlier = [bytes.fromhex(k) for k in v["earlier_keys_hex"]]
    made = e2e.seal_previous(key, v["category"], earlier, nonce=bytes.fromhex(v["nonce_hex"]))
    assert made.hex() == v["sealed_hex"]
    assert e2e.open_previous(key, v["category"], made) == earlier
    with pytest.raises(e2e.E2EError):  # bound to its category
        e2e.open_previous(key, "notes", made)
    tampered = bytearray(made)
    tampered[-1] ^= 1
    with pytest.raises(e2e.E2EError):
        e2e.open_previous(key, v["category"], bytes(tampered))


def test_any_three_of_the_frozen_five_shares_give_the_recovery_key_and_two_do_not() -> None:
    v = VECTORS["recovery_shares"]
    shares: list[str] = v["shares"]
    assert (len(shares), v["threshold"]) == (5, 3)
    assert all(s.startswith("RS1 ") and len(s.split()) == 34 for s in shares)
    for three in itertools.combinations(shares, 3):
        assert combine_shares(list(three)) == v["code"]
    for two in itertools.combinations(shares, 2):
        with pytest.raises(e2e.E2EError, match="Expected 3"):
            combine_shares(list(two))
    typo = shares[0].split()
    typo[5] = "academic" if typo[5] != "academic" else "acid"
    with pytest.raises(e2e.E2EError):  # the checksum catches a mistyped word
        combine_shares([" ".join(typo), *shares[1:3]])
    with pytest.raises(e2e.E2EError):
        combine_shares([s.replace("RS1", "RS2", 1) for s in shares[:3]])


@settings(max_examples=15, deadline=None)
@given(
    count=st.integers(min_value=2, max_value=16),
    data=st.data(),
    secret=st.binary(min_size=32, max_size=32),
)
def test_k_shares_restore_and_k_minus_one_refuse_for_any_k_of_n(
    count: int, data: st.DataObject, secret: bytes
) -> None:
    threshold = data.draw(st.integers(min_value=2, max_value=count))
    code = e2e.recovery_code(secret)
    shares = split_recovery(code, threshold=threshold, count=count)
    chosen = data.draw(st.permutations(shares))
    assert combine_shares(chosen[:threshold]) == code
    with pytest.raises(e2e.E2EError):
        combine_shares(chosen[: threshold - 1])


@pytest.mark.parametrize(("threshold", "count"), [(1, 3), (4, 3), (2, 17), (0, 0)])
def test_a_split_that_is_not_k_of_n_with_k_at_least_two_is_refused(
    threshold: int, count: int
) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        split_recovery(e2e.new_recovery_code(), threshold=threshold, count=count)


def test_the_frozen_session_wrap_opens_with_the_browser_key_only() -> None:
    v = VECTORS["session_wrap"]
    browser = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["browser_private_hex"]))
    assert e2e.public_bytes(browser.public_key()).hex() == v["browser_public_hex"]
    wrapped = bytes.fromhex(v["wrapped_hex"])
    assert wrapped[:3] == b"CB\x01" and len(wrapped) == 99
    key = e2e.unwrap_for_session(wrapped, v["category"], browser)
    assert key.hex() == VECTORS["category_key_hex"]
    with pytest.raises(e2e.E2EError):  # bound to its category
        e2e.unwrap_for_session(wrapped, "contacts", browser)
    with pytest.raises(e2e.E2EError):  # not a device wrap, nor opened by another key
        e2e.unwrap_for_session(wrapped, v["category"], X25519PrivateKey.generate())
    fresh = e2e.wrap_for_session(key, "notes", browser.public_key())
    assert e2e.unwrap_for_session(fresh, "notes", browser) == key


def test_the_key_proof_is_byte_for_byte_the_frozen_one() -> None:
    v = VECTORS["key_proof"]
    key = bytes.fromhex(VECTORS["category_key_hex"])
    proof = bytes.fromhex(v["proof_hex"])
    made = e2e.seal_key_proof(key, v["category"], proof, nonce=bytes.fromhex(v["nonce_hex"]))
    assert made.hex() == v["sealed_hex"]
    assert made[:3] == b"KP\x01" and len(made) == 79  # the length the server checks
    assert e2e.open_key_proof(key, v["category"], made) == proof
    with pytest.raises(e2e.E2EError):  # bound to its category
        e2e.open_key_proof(key, "notes", made)
    with pytest.raises(e2e.E2EError):  # and to its key
        e2e.open_key_proof(bytes(32), v["category"], made)
    tampered = bytearray(made)
    tampered[-1] ^= 1
    with pytest.raises(e2e.E2EError):
        e2e.open_key_proof(key, v["category"], bytes(tampered))
