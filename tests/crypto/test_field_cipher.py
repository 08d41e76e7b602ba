"""T4: field encryption — round trip, tamper detection, AAD binding, nonces, usage limit."""

from __future__ import annotations

import pickle
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from charter.crypto import (
    ENCRYPTION_LIMIT,
    FIELD_OVERHEAD,
    FieldCipher,
    new_data_key,
    record_aad,
)
from charter.errors import InputError, IntegrityError

IDENTITY = {
    "subject_id": "subj-1",
    "service": "cloud",
    "data_type": "contact.phone",
    "record_id": "rec-42",
}
AAD = record_aad(**IDENTITY)
CIPHER = FieldCipher(new_data_key())

identity_text = st.text(min_size=1, max_size=12)


def _rejects(cipher: FieldCipher, envelope: bytes, aad: bytes) -> bool:
    try:
        cipher.decrypt(envelope, aad=aad)
    except IntegrityError as exc:
        assert exc.code == "ciphertext_invalid"
        return True
    return False


@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=128))
def test_round_trip(plaintext: bytes, aad: bytes) -> None:
    envelope = CIPHER.encrypt(plaintext, aad=aad)
    assert CIPHER.decrypt(envelope, aad=aad) == plaintext


@given(plaintext=st.binary(max_size=64))
def test_envelope_layout(plaintext: bytes) -> None:
    envelope = CIPHER.encrypt(plaintext, aad=AAD)
    assert len(envelope) == len(plaintext) + FIELD_OVERHEAD == len(plaintext) + 2 + 12 + 16
    assert envelope[:2] == b"\x01\x01"
    if len(plaintext) >= 8:
        assert plaintext not in envelope


def test_every_single_bit_flip_fails() -> None:
    """Exhaustive over every bit of header, nonce, ciphertext and tag of 200 envelopes."""
    rng = random.Random(4)
    cipher = FieldCipher(new_data_key())
    flips = detected = 0
    for _ in range(200):
        plaintext = rng.randbytes(rng.randrange(0, 24))
        envelope = bytearray(cipher.encrypt(plaintext, aad=AAD))
        for byte in range(len(envelope)):
            for bit in range(8):
                envelope[byte] ^= 1 << bit
                flips += 1
                detected += _rejects(cipher, bytes(envelope), AAD)
                envelope[byte] ^= 1 << bit
        assert cipher.decrypt(bytes(envelope), aad=AAD) == plaintext
    assert flips > 200 * FIELD_OVERHEAD * 8
    assert detected == flips  # detection rate 100%


@given(plaintext=st.binary(max_size=32), data=st.data())
def test_random_bit_flip_fails(plaintext: bytes, data: st.DataObject) -> None:
    envelope = bytearray(CIPHER.encrypt(plaintext, aad=AAD))
    bit = data.draw(st.integers(0, len(envelope) * 8 - 1))
    envelope[bit // 8] ^= 1 << (bit % 8)
    assert _rejects(CIPHER, bytes(envelope), AAD)


def test_truncated_or_extended_envelope_fails() -> None:
    envelope = CIPHER.encrypt(b"0712 345 678", aad=AAD)
    for length in range(len(envelope)):
        assert _rejects(CIPHER, envelope[:length], AAD)
    assert _rejects(CIPHER, envelope + b"\x00", AAD)


@pytest.mark.parametrize("field", sorted(IDENTITY))
def test_ciphertext_moved_to_another_record_fails(field: str) -> None:
    envelope = CIPHER.encrypt(b"+86 138 0000 0000", aad=AAD)
    moved = record_aad(**{**IDENTITY, field: IDENTITY[field] + "x"})
    assert _rejects(CIPHER, envelope, moved)


@given(
    a=st.tuples(identity_text, identity_text, identity_text, identity_text),
    b=st.tuples(identity_text, identity_text, identity_text, identity_text),
)
def test_record_aad_is_unambiguous(a: tuple[str, ...], b: tuple[str, ...]) -> None:
    names = ("subject_id", "service", "data_type", "record_id")
    aad_a = record_aad(**dict(zip(names, a, strict=True)))
    aad_b = record_aad(**dict(zip(names, b, strict=True)))
    assert (aad_a == aad_b) == (a == b)


def test_record_aad_shifted_boundaries_differ() -> None:
    one = record_aad(subject_id="ab", service="c", data_type="d", record_id="e")
    two = record_aad(subject_id="a", service="bc", data_type="d", record_id="e")
    assert one != two


@pytest.mark.parametrize("field", sorted(IDENTITY))
def test_record_aad_rejects_empty_parts(field: str) -> None:
    with pytest.raises(InputError) as info:
        record_aad(**{**IDENTITY, field: ""})
    assert info.value.field == field


def test_ciphertext_under_another_data_key_fails() -> None:
    envelope = CIPHER.encrypt(b"secret", aad=AAD)
    assert _rejects(FieldCipher(new_data_key()), envelope, AAD)


def test_unknown_version_and_algorithm_rejected() -> None:
    """Envelopes with a valid tag but an unknown header byte are still refused."""
    dek = new_data_key()
    cipher = FieldCipher(dek)
    nonce = bytes(12)
    for header in [bytes((v, 1)) for v in (0, *range(2, 256))] + [
        bytes((1, a)) for a in (0, *range(2, 256))
    ]:
        forged = header + nonce + AESGCM(dek).encrypt(nonce, b"value", header + AAD)
        assert _rejects(cipher, forged, AAD)
    genuine = b"\x01\x01" + nonce + AESGCM(dek).encrypt(nonce, b"value", b"\x01\x01" + AAD)
    assert cipher.decrypt(genuine, aad=AAD) == b"value"


def test_short_input_rejected() -> None:
    for length in range(FIELD_OVERHEAD):
        assert _rejects(CIPHER, b"\x01\x01" + bytes(max(0, length - 2)), AAD)


def _nonces(count: int) -> set[bytes]:
    cipher = FieldCipher(new_data_key())
    return {cipher.encrypt(b"", aad=b"")[2:14] for _ in range(count)}


def test_no_duplicate_nonces_in_200k_encryptions() -> None:
    assert len(_nonces(200_000)) == 200_000


@pytest.mark.slow
def test_no_duplicate_nonces_in_1m_encryptions() -> None:
    assert len(_nonces(1_000_000)) == 1_000_000


def test_usage_counter_and_limit() -> None:
    cipher = FieldCipher(new_data_key(), limit=3)
    assert cipher.encryptions == 0
    envelopes = [cipher.encrypt(b"v", aad=AAD) for _ in range(3)]
    assert cipher.encryptions == 3
    with pytest.raises(IntegrityError) as info:
        cipher.encrypt(b"v", aad=AAD)
    assert info.value.code == "key_usage_exhausted"
    assert "rotate" in info.value.message
    assert cipher.encryptions == 3
    # decryption still works and is not counted
    assert [cipher.decrypt(e, aad=AAD) for e in envelopes] == [b"v"] * 3


def test_default_limit_is_2_to_31_and_restored_count_is_honoured() -> None:
    assert ENCRYPTION_LIMIT == 2**31
    dek = new_data_key()
    assert FieldCipher(dek).limit == 2**31
    nearly = FieldCipher(dek, encryptions=2**31 - 1)
    nearly.encrypt(b"last", aad=AAD)
    assert nearly.encryptions == 2**31
    with pytest.raises(IntegrityError):
        nearly.encrypt(b"one too many", aad=AAD)
    with pytest.raises(IntegrityError):
        FieldCipher(dek, encryptions=2**31).encrypt(b"", aad=AAD)


def test_limit_cannot_exceed_default() -> None:
    with pytest.raises(InputError):
        FieldCipher(new_data_key(), limit=2**32)
    with pytest.raises(InputError):
        FieldCipher(new_data_key(), encryptions=-1)


def test_counter_is_exact_under_threads() -> None:
    cipher = FieldCipher(new_data_key(), limit=10_000)
    barrier = threading.Barrier(4)

    def worker() -> tuple[int, int]:
        barrier.wait()
        ok = refused = 0
        for _ in range(3_000):
            try:
                cipher.encrypt(b"x", aad=AAD)
                ok += 1
            except IntegrityError:
                refused += 1
        return ok, refused

    with ThreadPoolExecutor(4) as pool:
        results = [f.result() for f in [pool.submit(worker) for _ in range(4)]]
    assert sum(ok for ok, _ in results) == 10_000
    assert sum(refused for _, refused in results) == 2_000
    assert cipher.encryptions == 10_000


@pytest.mark.parametrize("dek", [b"", bytes(16), bytes(31), bytes(33)])
def test_data_key_must_be_32_bytes(dek: bytes) -> None:
    with pytest.raises(InputError):
        FieldCipher(dek)


def test_repr_and_pickle_hide_the_key() -> None:
    dek = new_data_key()
    cipher = FieldCipher(dek)
    assert dek.hex() not in repr(cipher)
    assert repr(dek) not in repr(cipher)
    with pytest.raises(TypeError):
        pickle.dumps(cipher)


@given(items=st.lists(st.tuples(st.binary(max_size=64), st.binary(max_size=32)), max_size=20))
def test_encrypt_many_matches_encrypt(items: list[tuple[bytes, bytes]]) -> None:
    cipher = FieldCipher(new_data_key())
    envelopes = cipher.encrypt_many(items)
    assert len(envelopes) == len(items)
    assert cipher.encryptions == len(items)
    for (plaintext, aad), envelope in zip(items, envelopes, strict=True):
        assert len(envelope) == len(plaintext) + FIELD_OVERHEAD
        assert envelope[:2] == b"\x01\x01"
        assert cipher.decrypt(envelope, aad=aad) == plaintext
        if aad != b"x":
            assert _rejects(cipher, envelope, b"x")


def test_encrypt_many_draws_a_fresh_nonce_per_item() -> None:
    cipher = FieldCipher(new_data_key())
    nonces = {
        envelope[2:14] for _ in range(200) for envelope in cipher.encrypt_many([(b"", b"")] * 1_000)
    }
    assert len(nonces) == 200_000


def test_encrypt_many_counts_against_the_limit() -> None:
    cipher = FieldCipher(new_data_key(), limit=5)
    cipher.encrypt_many([(b"v", AAD)] * 3)
    assert cipher.encryptions == 3
    with pytest.raises(IntegrityError) as info:
        cipher.encrypt_many([(b"v", AAD)] * 3)  # one past the limit: none is encrypted
    assert info.value.code == "key_usage_exhausted"
    assert cipher.encryptions == 3
    with pytest.raises(IntegrityError):
        cipher.encrypt(b"v", aad=AAD)
    assert cipher.encrypt_many([]) == []


@given(
    plaintext=st.binary(max_size=600),
    aad=st.binary(max_size=64),
    slice_bytes=st.integers(min_value=1, max_value=700),
)
def test_encrypt_to_writes_the_same_envelope(
    plaintext: bytes, aad: bytes, slice_bytes: int
) -> None:
    """The envelope handed out in pieces (for blob files) is the format :meth:`encrypt`
    returns: joined, it opens with decrypt, has the same layout, refuses another aad and
    any altered bit; every piece is the writer's to keep."""
    cipher = FieldCipher(new_data_key())
    pieces: list[memoryview] = []
    length = cipher.encrypt_to(plaintext, aad=aad, write=pieces.append, slice_bytes=slice_bytes)
    envelope = b"".join(bytes(p) for p in pieces)
    assert len(envelope) == length == len(plaintext) + FIELD_OVERHEAD
    assert envelope[:2] == b"\x01\x01"
    assert cipher.decrypt(envelope, aad=aad) == plaintext
    assert _rejects(cipher, envelope, aad + b"x")
    assert _rejects(cipher, envelope[:-1] + bytes([envelope[-1] ^ 1]), aad)
    assert cipher.encryptions == 1


@given(
    plaintext=st.binary(max_size=600),
    aad=st.binary(max_size=64),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=8),
)
def test_a_sealing_fed_in_any_pieces_makes_the_same_envelope(
    plaintext: bytes, aad: bytes, cuts: list[int]
) -> None:
    """An envelope sealed as its plaintext arrives, cut anywhere, is the format
    :meth:`encrypt` returns: it opens with decrypt and refuses another aad or a changed bit."""
    cipher = FieldCipher(new_data_key())
    sealing = cipher.sealing(aad=aad)
    out = [sealing.head]
    at = 0
    for cut in [*sorted(c for c in cuts if c <= len(plaintext)), len(plaintext)]:
        buffer = bytearray(cut - at + 15)
        made = sealing.update_into(plaintext[at:cut], buffer)
        out.append(bytes(buffer[:made]))
        at = cut
    envelope = b"".join([*out, sealing.finalize()])
    assert len(envelope) == len(plaintext) + FIELD_OVERHEAD
    assert sealing.length == len(plaintext)
    assert cipher.decrypt(envelope, aad=aad) == plaintext
    assert _rejects(cipher, envelope, aad + b"x")
    assert _rejects(cipher, envelope[:-1] + bytes([envelope[-1] ^ 1]), aad)
    assert cipher.encryptions == 1


def test_same_key_tells_ciphers_apart() -> None:
    key = new_data_key()
    assert FieldCipher(key).same_key(FieldCipher(key, encryptions=9))
    assert not FieldCipher(key).same_key(FieldCipher(new_data_key()))


def test_encrypt_to_counts_against_the_limit() -> None:
    cipher = FieldCipher(new_data_key(), limit=2)
    first: list[memoryview] = []
    second: list[memoryview] = []
    cipher.encrypt_to(b"v", aad=AAD, write=first.append)
    cipher.encrypt(b"v", aad=AAD)
    assert cipher.encryptions == 2
    with pytest.raises(IntegrityError) as info:
        cipher.encrypt_to(b"v", aad=AAD, write=second.append)
    assert info.value.code == "key_usage_exhausted"
    assert second == []  # nothing written


@given(plaintext=st.binary(max_size=300), slice_bytes=st.integers(min_value=1, max_value=64))
def test_encrypt_to_into_reused_buffers(plaintext: bytes, slice_bytes: int) -> None:
    """Slices encrypted into a ring of buffers (each copied out by the writer before its
    buffer comes round again) make the same envelope."""
    cipher = FieldCipher(new_data_key())
    ring = [bytearray(slice_bytes + 15) for _ in range(3)]
    out = bytearray()
    cipher.encrypt_to(plaintext, aad=AAD, write=out.extend, buffers=ring, slice_bytes=slice_bytes)
    assert cipher.decrypt(bytes(out), aad=AAD) == plaintext


def test_encrypt_to_refuses_buffers_too_small() -> None:
    cipher = FieldCipher(new_data_key())
    with pytest.raises(InputError):
        cipher.encrypt_to(b"v", aad=AAD, write=print, buffers=[bytearray(8)], slice_bytes=8)
    assert cipher.encryptions == 0
