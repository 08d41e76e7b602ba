"""Keyed hashes: HMAC-SHA-256 with length-prefixed domain separation."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.crypto import encode_parts, fingerprint, keyed_hash
from charter.errors import InputError

KEY = bytes(range(32))


def _reference(key: bytes, value: bytes, context: str) -> bytes:
    def lp(part: bytes) -> bytes:
        return struct.pack(">I", len(part)) + part

    message = lp(b"charter.keyed_hash.v1") + lp(context.encode()) + lp(value)
    return hmac.new(key, message, hashlib.sha256).digest()


def test_matches_the_documented_construction() -> None:
    assert keyed_hash(KEY, b"861234567890123", context="device.imei") == _reference(
        KEY, b"861234567890123", "device.imei"
    )


@given(
    st.lists(
        st.tuples(
            st.binary(min_size=32, max_size=80), st.text(min_size=1, max_size=12), st.binary()
        ),
        min_size=1,
        max_size=24,
    )
)
def test_matches_the_construction_whatever_keys_come_in_turn(
    calls: list[tuple[bytes, str, bytes]],
) -> None:
    # more keys than the per-key states kept, in any order: each hash is under its own key
    for key, context, value in calls:
        assert keyed_hash(key, value, context=context) == _reference(key, value, context)
        assert keyed_hash(bytearray(key), memoryview(value), context=context) == _reference(
            key, value, context
        )


def test_is_32_bytes_and_deterministic() -> None:
    a = keyed_hash(KEY, b"x", context="c")
    assert len(a) == 32
    assert a == keyed_hash(KEY, b"x", context="c")


def test_differs_per_context_and_per_key() -> None:
    base = keyed_hash(KEY, b"alice@example.com", context="account.email")
    assert base != keyed_hash(KEY, b"alice@example.com", context="audit.subject")
    assert base != keyed_hash(bytes(32), b"alice@example.com", context="account.email")
    assert base != hmac.new(KEY, b"alice@example.com", hashlib.sha256).digest()


def test_context_value_boundary_is_unambiguous() -> None:
    assert keyed_hash(KEY, b"c", context="ab") != keyed_hash(KEY, b"bc", context="a")


@given(
    a=st.tuples(st.text(min_size=1, max_size=8), st.binary(max_size=8)),
    b=st.tuples(st.text(min_size=1, max_size=8), st.binary(max_size=8)),
)
def test_distinct_inputs_give_distinct_hashes(a: tuple[str, bytes], b: tuple[str, bytes]) -> None:
    ha = keyed_hash(KEY, a[1], context=a[0])
    hb = keyed_hash(KEY, b[1], context=b[0])
    assert (ha == hb) == (a == b)


def test_fingerprint() -> None:
    fp = fingerprint(KEY, b"subj-1")
    assert len(fp) == 16
    int(fp, 16)
    assert fp == keyed_hash(KEY, b"subj-1", context="fingerprint").hex()[:16]
    assert fp != fingerprint(bytes(32), b"subj-1")
    assert fp != hashlib.sha256(b"subj-1").hexdigest()[:16]


def test_rejects_weak_keys_and_empty_context() -> None:
    with pytest.raises(InputError):
        keyed_hash(b"short", b"v", context="c")
    with pytest.raises(InputError):
        keyed_hash(KEY, b"v", context="")


@given(st.lists(st.binary(max_size=6), max_size=4), st.lists(st.binary(max_size=6), max_size=4))
def test_encode_parts_is_injective(a: list[bytes], b: list[bytes]) -> None:
    assert (encode_parts(*a) == encode_parts(*b)) == (a == b)
