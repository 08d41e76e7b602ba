"""T4: the AES-256-GCM primitive against published known-answer vectors.

These call ``AESGCM`` directly, bypassing Charter's header and AAD handling, to show the
primitive under FieldCipher is standard AES-256-GCM. Sources:

* McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, test cases
  13-16 (the AES-256 cases, 96-bit IV), reproduced in NIST's GCM submission;
* NIST CAVP ``gcmEncryptExtIV256.rsp`` (SP 800-38D validation), Keylen 256, IVlen 96,
  Taglen 128, Count 0 of the sections named.
"""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from charter.crypto import FieldCipher, record_aad

_K15 = "feffe9928665731c6d6a8f9467308308" * 2
_P15 = (
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
_C15 = (
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)

# (name, key, iv, aad, plaintext, ciphertext, tag), all hex
VECTORS = [
    ("gcm-spec-tc13", "00" * 32, "00" * 12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
    (
        "gcm-spec-tc14",
        "00" * 32,
        "00" * 12,
        "",
        "00" * 16,
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        "gcm-spec-tc15",
        _K15,
        "cafebabefacedbaddecaf888",
        "",
        _P15,
        _C15,
        "b094dac5d93471bdec1a502270e3cc6c",
    ),
    (
        "gcm-spec-tc16",
        _K15,
        "cafebabefacedbaddecaf888",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        _P15[:120],
        _C15[:120],
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
    (
        "cavp-256-pt0-aad0-count0",
        "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
        "516c33929df5a3284ff463d7",
        "",
        "",
        "",
        "bdc1ac884d332457a1d2664f168c76f0",
    ),
    (
        "cavp-256-pt128-aad128-count0",
        "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b",
        "ac93a1a6145299bde902f21a",
        "1e0889016f67601c8ebea4943bc23ad6",
        "2d71bcfa914e4ac045b2aa60955fad24",
        "8995ae2e6df3dbf96fac7b7137bae67f",
        "eca5aa77d51d4a0a14d9c51e1da474ab",
    ),
]


@pytest.mark.parametrize(
    ("name", "key", "iv", "aad", "pt", "ct", "tag"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_aes256gcm_known_answers(
    name: str, key: str, iv: str, aad: str, pt: str, ct: str, tag: str
) -> None:
    aead = AESGCM(bytes.fromhex(key))
    nonce, assoc = bytes.fromhex(iv), bytes.fromhex(aad)
    expected = bytes.fromhex(ct + tag)
    assert aead.encrypt(nonce, bytes.fromhex(pt), assoc or None) == expected
    assert aead.decrypt(nonce, expected, assoc or None) == bytes.fromhex(pt)
    broken = bytearray(expected)
    broken[-1] ^= 1
    with pytest.raises(InvalidTag):
        aead.decrypt(nonce, bytes(broken), assoc or None)


def test_field_cipher_is_plain_aes256gcm_with_header_prefixed_aad() -> None:
    """FieldCipher output opens with the bare primitive: nonce at 2..14, AAD = header + aad."""
    dek = bytes.fromhex(_K15)
    aad = record_aad(subject_id="s", service="cloud", data_type="note", record_id="1")
    envelope = FieldCipher(dek).encrypt(b"hello", aad=aad)
    assert AESGCM(dek).decrypt(envelope[2:14], envelope[14:], envelope[:2] + aad) == b"hello"


def test_field_cipher_streamed_is_plain_aes256gcm_with_header_prefixed_aad() -> None:
    """The envelope written in pieces opens with the bare primitive the same way."""
    dek = bytes.fromhex(_K15)
    aad = record_aad(subject_id="s", service="cloud", data_type="note", record_id="1")
    pieces: list[memoryview] = []
    FieldCipher(dek).encrypt_to(b"hello world", aad=aad, write=pieces.append, slice_bytes=4)
    envelope = b"".join(bytes(p) for p in pieces)
    assert AESGCM(dek).decrypt(envelope[2:14], envelope[14:], envelope[:2] + aad) == b"hello world"
