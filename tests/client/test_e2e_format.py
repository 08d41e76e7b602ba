"""
The formats of advanced protection, version 1 (:mod:`charter.client.e2e`): frozen test
vectors checked byte for byte, round trips, and every tampering refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from charter.client import e2e
from charter.services.cloud.devices import fingerprint as server_fingerprint
from charter.services.cloud.protection import MIN_ENVELOPE, WRAP_BYTES

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "e2e_v1.json").read_text(encoding="utf-8")
)


def test_the_item_envelope_is_byte_for_byte_the_frozen_one() -> None:
    v = VECTORS["item"]
    key = bytes.fromhex(VECTORS["category_key_hex"])
    assert e2e.key_id(key).hex() == VECTORS["key_id_hex"]
    made = e2e.seal_item(
        key,
        v["category"],
        bytes.fromhex(v["content_hex"]),
        name=v["name"],
        path=v["path"],
        nonce=bytes.fromhex(v["nonce_hex"]),
    )
    assert made.hex() == v["envelope_hex"]
    opened = e2e.open_item(key, v["category"], bytes.fromhex(v["envelope_hex"]))
    assert (opened.name, opened.path, opened.content.hex()) == (
        v["name"],
        v["path"],
        v["content_hex"],
    )


def test_the_frozen_wrapped_key_opens_with_the_frozen_device_key() -> None:
    v = VECTORS["wrap"]
    private = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["recipient_private_hex"]))
    assert e2e.public_bytes(private.public_key()).hex() == v["recipient_public_hex"]
    wrapped = bytes.fromhex(v["wrapped_hex"])
    assert len(wrapped) == e2e.WRAP_LENGTH == WRAP_BYTES == 99
    key = e2e.unwrap_key(wrapped, v["category"], private, bytes.fromhex(VECTORS["key_id_hex"]))
    assert key.hex() == VECTORS["category_key_hex"]
    with pytest.raises(e2e.E2EError):  # bound to its category
        e2e.unwrap_key(wrapped, "notes", private, bytes.fromhex(VECTORS["key_id_hex"]))


def test_the_recovery_key_and_the_fingerprint_are_the_frozen_ones() -> None:
    r = VECTORS["recovery"]
    assert e2e.recovery_code(bytes.fromhex(r["secret_hex"])) == r["code"]
    private = e2e.recovery_private_key(r["code"].lower().replace("-", " "))
    assert e2e.public_bytes(private.public_key()).hex() == r["public_hex"]
    f = VECTORS["fingerprint"]
    assert e2e.fingerprint(bytes.fromhex(f["public_hex"])) == f["digits"]
    assert server_fingerprint(bytes.fromhex(f["public_hex"])) == f["digits"]
    for bad in ("RK2-AAAA", "RK1-0000", "RK1-" + "A" * 40):
        with pytest.raises(e2e.E2EError):
            e2e.recovery_private_key(bad)


@given(
    content=st.binary(max_size=300),
    name=st.text(max_size=40),
    path=st.text(max_size=40),
    flip=st.integers(min_value=0),
)
def test_every_flipped_bit_of_an_envelope_is_refused(
    content: bytes, name: str, path: str, flip: int
) -> None:
    key = e2e.new_key()
    envelope = e2e.seal_item(key, "notes", content, name=name, path=path)
    assert len(envelope) >= MIN_ENVELOPE
    opened = e2e.open_item(key, "notes", envelope)
    assert (opened.content, opened.name, opened.path) == (content, name, path)
    bit = flip % (len(envelope) * 8)
    tampered = bytearray(envelope)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(e2e.E2EError):
        e2e.open_item(key, "notes", bytes(tampered))
    with pytest.raises(e2e.E2EError):
        e2e.open_item(key, "contacts", envelope)  # moved to another category
    with pytest.raises(e2e.E2EError):
        e2e.open_item(e2e.new_key(), "notes", envelope)


def test_a_key_wrapped_to_one_device_does_not_open_for_another() -> None:
    key = e2e.new_key()
    phone, tablet = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    wrapped = e2e.wrap_key(key, "gallery", phone.public_key())
    assert e2e.unwrap_key(wrapped, "gallery", phone, e2e.key_id(key)) == key
    with pytest.raises(e2e.E2EError):
        e2e.unwrap_key(wrapped, "gallery", tablet, e2e.key_id(key))
    with pytest.raises(e2e.E2EError):  # a key that is not the category's current one
        e2e.unwrap_key(wrapped, "gallery", phone, e2e.key_id(e2e.new_key()))
    sealed = e2e.seal_to_self(b'["DCIM/Camera"]', phone.public_key())
    assert e2e.open_sealed(sealed, phone) == b'["DCIM/Camera"]'
    with pytest.raises(e2e.E2EError):
        e2e.open_sealed(sealed, tablet)
