"""
The formats of advanced protection (end-to-end), version 1: pure functions, no I/O. Frozen
test vectors in ``tests/client/vectors/e2e_v1.json`` pin them byte for byte.

- **Category key**: 32 random bytes made on a device. Its **key id** is the first 16 bytes
  of HMAC-SHA256(key, ``charter.cloud.e2e.v1 key-id``): the server keeps it, and a device
  checks every key it unwraps against it (a key that does not match is refused).
- **Wrapped key** (99 bytes): ``CW 01`` | key id (16) | HPKE base-mode seal (RFC 9180;
  DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) of the key to the recipient's X25519
  public key: encapsulated key (32) | ciphertext and tag (48). HPKE ``info`` is
  ``charter.cloud.e2e.v1 wrap`` 00 category 00 key id.
- **Item envelope**: ``CE 01`` | key id (16) | nonce (12) | AES-256-GCM ciphertext and tag,
  with associated data ``CE 01`` | key id | 00 | category. The plaintext is name length (2,
  big-endian) | name (UTF-8) | path length (2) | path (UTF-8) | content: an item's name and
  folder path are encrypted with it.
- **Recovery key**: 32 random bytes, shown once as ``RK1-`` and 13 groups of 4 base32
  letters; its X25519 private key is HKDF-SHA256(secret, info ``charter.cloud.e2e.v1
  recovery``).
- **Sealed to self** (a device's own settings): ``CS 01`` | HPKE seal to the device's own key,
  ``info`` ``charter.cloud.e2e.v1 self``.
- **Proof** (made by the server, opened by a device or the recovery key): ``CP 01`` | HPKE
  seal of 32 bytes, ``info`` ``charter.cloud.e2e.v1 device-proof`` (to a device) or
  ``charter.cloud.e2e.v1 recovery-proof`` (to the recovery key).
- **Earlier keys** (after a rotation): ``CK 01`` | current key id (16) | nonce (12) |
  AES-256-GCM under the current key of the earlier keys (32 bytes each, newest first), with
  associated data ``CK 01`` | key id | 00 | category.
- **Key proof** (a category protected before migration 0018, whose recovery public key the
  server lacks): ``KP 01`` | key id (16) | nonce (12) | AES-256-GCM under the category key
  of the 32-byte proof the server sealed to an approved device, associated data ``KP 01`` |
  key id | 00 | category. A device that opened the key with the recovery key opens it.
- **Shared photo** (a link under advanced protection): ``SP 01`` | nonce (12) | AES-256-GCM
  under a fresh 32-byte photo key of media type length (1) | media type | the stripped
  image, associated data ``SP 01``. The photo key travels in the link's URL fragment.
- **Key for a web session** (a device approving a browser): ``CB 01`` | key id (16) | HPKE
  base-mode seal with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and **AES-128-GCM** (what the
  browser's vendored @hpke/core offers) of the category key to the browser's ephemeral
  public key: encapsulated key (32) | ciphertext and tag (48); ``info``
  ``charter.cloud.e2e.v1 session`` 00 category 00 key id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ENVELOPE = b"CE\x01"
WRAP = b"CW\x01"
SEALED = b"CS\x01"
PROOF = b"CP\x01"
PREVIOUS = b"CK\x01"
KEY_PROOF = b"KP\x01"
SHARED_PHOTO = b"SP\x01"
SESSION_WRAP = b"CB\x01"
SESSION_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
KEY_BYTES = 32
KEY_ID_BYTES = 16
NONCE_BYTES = 12
WRAP_LENGTH = len(WRAP) + KEY_ID_BYTES + 32 + KEY_BYTES + 16
RECOVERY_PREFIX = "RK1-"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_LEN = struct.Struct(">H")


class E2EError(Exception):
    """A key or an envelope that does not open: wrong key, tampered, or not format 1."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A decrypted item."""

    name: str
    path: str
    content: bytes


def new_key() -> bytes:
    """A fresh category key."""
    return os.urandom(KEY_BYTES)


def key_id(key: bytes) -> bytes:
    """The key's id (a commitment to it; safe to give the server)."""
    return hmac.new(key, b"charter.cloud.e2e.v1 key-id", hashlib.sha256).digest()[:KEY_ID_BYTES]


def public_bytes(public_key: X25519PublicKey) -> bytes:
    """The raw 32 bytes of an X25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """Twelve digits both devices show when one approves the other: equal digits mean the
    server handed over the right key."""
    digest = hashlib.sha256(b"charter.cloud.e2e.v1 fingerprint" + public_key).digest()
    n = int.from_bytes(digest[:8], "big") % 10**12
    text = f"{n:012d}"
    return " ".join(text[i : i + 3] for i in range(0, 12, 3))


def _wrap_info(category: str, kid: bytes) -> bytes:
    return b"charter.cloud.e2e.v1 wrap\x00" + category.encode() + b"\x00" + kid


def wrap_key(key: bytes, category: str, recipient: X25519PublicKey) -> bytes:
    """The category key sealed to a recipient's public key (format 1)."""
    kid = key_id(key)
    return WRAP + kid + SUITE.encrypt(key, recipient, info=_wrap_info(category, kid))


def unwrap_key(
    wrapped: bytes, category: str, recipient: X25519PrivateKey, expected_key_id: bytes
) -> bytes:
    """
    Open a wrapped key with the recipient's private key.

    Raises:
        E2EError: not format 1, not for this key, or the key does not match its id.
    """
    if len(wrapped) != WRAP_LENGTH or not wrapped.startswith(WRAP):
        raise E2EError("not a format-1 wrapped key")
    kid = wrapped[len(WRAP) : len(WRAP) + KEY_ID_BYTES]
    if not hmac.compare_digest(kid, expected_key_id):
        raise E2EError("the wrapped key is not the category's current key")
    try:
        key = SUITE.decrypt(
            wrapped[len(WRAP) + KEY_ID_BYTES :], recipient, info=_wrap_info(category, kid)
        )
    except InvalidTag:
        raise E2EError("this key was not wrapped to this device") from None
    if not hmac.compare_digest(key_id(key), expected_key_id):
        raise E2EError("the unwrapped key does not match its id")
    return key


def _aad(kid: bytes, category: str) -> bytes:
    return ENVELOPE + kid + b"\x00" + category.encode()


def seal_item(
    key: bytes,
    category: str,
    content: bytes,
    *,
    name: str = "",
    path: str = "",
    nonce: bytes | None = None,
) -> bytes:
    """
    An item's envelope (format 1); ``nonce`` only for test vectors (random otherwise).

    Raises:
        ValueError: a name or path over 65,535 bytes.
    """
    kid = key_id(key)
    nonce = nonce or os.urandom(NONCE_BYTES)
    raw_name, raw_path = name.encode(), path.encode()
    if max(len(raw_name), len(raw_path)) > 0xFFFF:
        raise ValueError("an item's name and path are at most 65,535 bytes each")
    plain = _LEN.pack(len(raw_name)) + raw_name + _LEN.pack(len(raw_path)) + raw_path + content
    return ENVELOPE + kid + nonce + AESGCM(key).encrypt(nonce, plain, _aad(kid, category))


def open_item(key: bytes, category: str, envelope: bytes) -> Opened:
    """
    Decrypt an item's envelope.

    Raises:
        E2EError: not format 1, another key or category, or tampered.
    """
    head = len(ENVELOPE) + KEY_ID_BYTES
    if len(envelope) < head + NONCE_BYTES + 16 + 4 or not envelope.startswith(ENVELOPE):
        raise E2EError("not a format-1 envelope")
    kid = envelope[len(ENVELOPE) : head]
    if not hmac.compare_digest(kid, key_id(key)):
        raise E2EError("the item was encrypted under another key")
    nonce = envelope[head : head + NONCE_BYTES]
    try:
        plain = AESGCM(key).decrypt(nonce, envelope[head + NONCE_BYTES :], _aad(kid, category))
    except InvalidTag:
        raise E2EError("the envelope does not open: tampered, or another category") from None
    (n,) = _LEN.unpack_from(plain, 0)
    name = plain[2 : 2 + n]
    (m,) = _LEN.unpack_from(plain, 2 + n)
    path = plain[4 + n : 4 + n + m]
    return Opened(name.decode(), path.decode(), plain[4 + n + m :])


def _self_info() -> bytes:
    return b"charter.cloud.e2e.v1 self"


def seal_to_self(data: bytes, public_key: X25519PublicKey) -> bytes:
    """Bytes only the device holding the matching private key can open (format 1)."""
    return SEALED + SUITE.encrypt(data, public_key, info=_self_info())


def open_sealed(sealed: bytes, private_key: X25519PrivateKey) -> bytes:
    """
    Raises:
        E2EError: not format 1, or sealed to another key.
    """
    if not sealed.startswith(SEALED):
        raise E2EError("not format-1 sealed data")
    try:
        return SUITE.decrypt(sealed[len(SEALED) :], private_key, info=_self_info())
    except InvalidTag:
        raise E2EError("sealed to another device") from None


def new_recovery_code() -> str:
    """A fresh recovery key, as shown once to the person."""
    return recovery_code(os.urandom(32))


def recovery_code(secret: bytes) -> str:
    """The display form of a 32-byte recovery secret."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return RECOVERY_PREFIX + "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def recovery_private_key(code: str) -> X25519PrivateKey:
    """
    The recovery key's X25519 private key.

    Raises:
        E2EError: not a recovery key (``RK1-`` and 52 base32 letters).
    """
    text = "".join(code.split()).upper().replace("-", "")
    if not text.startswith("RK1"):
        raise E2EError("a recovery key starts with RK1-")
    letters = text[3:]
    try:
        secret = base64.b32decode(letters + "====")
    except ValueError:
        raise E2EError("a recovery key has 52 letters and digits 2-7 after RK1-") from None
    if len(secret) != 32:
        raise E2EError("a recovery key has 52 letters and digits 2-7 after RK1-")
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"charter.cloud.e2e.v1 recovery"
    ).derive(secret)
    return X25519PrivateKey.from_private_bytes(seed)


def open_proof(sealed: bytes, private_key: X25519PrivateKey, *, recovery: bool = False) -> bytes:
    """
    Open a proof the server sealed to this device (or to the recovery key).

    Raises:
        E2EError: not format 1, or sealed to another key.
    """
    info = b"charter.cloud.e2e.v1 " + (b"recovery-proof" if recovery else b"device-proof")
    if not sealed.startswith(PROOF):
        raise E2EError("not a format-1 proof")
    try:
        return SUITE.decrypt(sealed[len(PROOF) :], private_key, info=info)
    except InvalidTag:
        raise E2EError("this proof was sealed to another key") from None


def _previous_aad(kid: bytes, category: str) -> bytes:
    return PREVIOUS + kid + b"\x00" + category.encode()


def seal_previous(
    key: bytes, category: str, earlier: list[bytes], *, nonce: bytes | None = None
) -> bytes:
    """The earlier keys of a category sealed under its current key (format 1); ``nonce``
    only for test vectors."""
    kid = key_id(key)
    nonce = nonce or os.urandom(NONCE_BYTES)
    if any(len(k) != KEY_BYTES for k in earlier):
        raise ValueError("a category key is 32 bytes")
    body = AESGCM(key).encrypt(nonce, b"".join(earlier), _previous_aad(kid, category))
    return PREVIOUS + kid + nonce + body


def open_previous(key: bytes, category: str, sealed: bytes) -> list[bytes]:
    """
    The earlier keys, newest first.

    Raises:
        E2EError: not format 1, sealed under another key, or tampered.
    """
    head = len(PREVIOUS) + KEY_ID_BYTES
    kid = key_id(key)
    if not sealed.startswith(PREVIOUS + kid) or len(sealed) < head + NONCE_BYTES + 16:
        raise E2EError("not format-1 earlier keys under this key")
    try:
        plain = AESGCM(key).decrypt(
            sealed[head : head + NONCE_BYTES],
            sealed[head + NONCE_BYTES :],
            _previous_aad(kid, category),
        )
    except InvalidTag:
        raise E2EError("the earlier keys do not open: tampered, or another category") from None
    if len(plain) % KEY_BYTES:
        raise E2EError("the earlier keys are not whole keys")
    return [plain[i : i + KEY_BYTES] for i in range(0, len(plain), KEY_BYTES)]


def seal_key_proof(key: bytes, category: str, proof: bytes, *, nonce: bytes | None = None) -> bytes:
    """A key proof sealed under the category key (format 1); ``nonce`` only for vectors."""
    kid = key_id(key)
    nonce = nonce or os.urandom(NONCE_BYTES)
    aad = KEY_PROOF + kid + b"\x00" + category.encode()
    return KEY_PROOF + kid + nonce + AESGCM(key).encrypt(nonce, proof, aad)


def open_key_proof(key: bytes, category: str, sealed: bytes) -> bytes:
    """
    The key proof sealed under ``key``.

    Raises:
        E2EError: not format 1, under another key, or tampered.
    """
    kid = key_id(key)
    head = len(KEY_PROOF) + KEY_ID_BYTES
    if not sealed.startswith(KEY_PROOF + kid) or len(sealed) < head + NONCE_BYTES + 16:
        raise E2EError("not a format-1 key proof under this key")
    try:
        return AESGCM(key).decrypt(
            sealed[head : head + NONCE_BYTES],
            sealed[head + NONCE_BYTES :],
            KEY_PROOF + kid + b"\x00" + category.encode(),
        )
    except InvalidTag:
        raise E2EError("the key proof does not open: tampered, or another category") from None


def seal_shared_photo(
    photo_key: bytes, media_type: str, image: bytes, *, nonce: bytes | None = None
) -> bytes:
    """A stripped photo sealed for a link (format 1); ``nonce`` only for test vectors."""
    kind = media_type.encode()
    if len(photo_key) != KEY_BYTES or not 0 < len(kind) < 256:
        raise ValueError("a 32-byte photo key and a media type")
    nonce = nonce or os.urandom(NONCE_BYTES)
    body = AESGCM(photo_key).encrypt(nonce, bytes([len(kind)]) + kind + image, SHARED_PHOTO)
    return SHARED_PHOTO + nonce + body


def open_shared_photo(photo_key: bytes, sealed: bytes) -> tuple[str, bytes]:
    """
    The media type and the image of a shared photo.

    Raises:
        E2EError: not format 1, another key, or tampered.
    """
    if not sealed.startswith(SHARED_PHOTO) or len(sealed) < 3 + NONCE_BYTES + 17:
        raise E2EError("not a format-1 shared photo")
    try:
        plain = AESGCM(photo_key).decrypt(sealed[3:15], sealed[15:], SHARED_PHOTO)
    except InvalidTag:
        raise E2EError("the shared photo does not open with this key") from None
    n = plain[0]
    return plain[1 : 1 + n].decode(), plain[1 + n :]


def _session_info(category: str, kid: bytes) -> bytes:
    return b"charter.cloud.e2e.v1 session\x00" + category.encode() + b"\x00" + kid


def wrap_for_session(key: bytes, category: str, browser: X25519PublicKey) -> bytes:
    """A category key sealed to a browser session's ephemeral key (format 1)."""
    kid = key_id(key)
    return (
        SESSION_WRAP + kid + SESSION_SUITE.encrypt(key, browser, info=_session_info(category, kid))
    )


def unwrap_for_session(wrapped: bytes, category: str, browser: X25519PrivateKey) -> bytes:
    """
    What the browser's script does, in Python (for vectors and tests).

    Raises:
        E2EError: not format 1, another key, or the key does not match its id.
    """
    if len(wrapped) != WRAP_LENGTH or not wrapped.startswith(SESSION_WRAP):
        raise E2EError("not a format-1 session wrap")
    kid = wrapped[3 : 3 + KEY_ID_BYTES]
    try:
        key = SESSION_SUITE.decrypt(
            wrapped[3 + KEY_ID_BYTES :], browser, info=_session_info(category, kid)
        )
    except InvalidTag:
        raise E2EError("this key was not wrapped to this session") from None
    if not hmac.compare_digest(key_id(key), kid):
        raise E2EError("the unwrapped key does not match its id")
    return key
