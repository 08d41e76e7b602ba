"""
Envelope encryption: data keys wrapped by the keyring's KEK, and field encryption.

Each subject has one data key (DEK) per region. The DEK is stored only *wrapped*: encrypted
with AES-256-GCM under the current KEK, with the subject and region as associated data, so a
wrapped DEK copied onto another subject's row does not unwrap. Erasing a subject destroys
the wrapped DEK (crypto-shredding); rotating the KEK and rewrapping moves every DEK to the
new KEK, after which the old KEK can be retired.

Wrapped data key, 66 bytes::

    0     1     2..5                6..17    18..65
    fmt=1 alg=1 KEK version (u32 BE) nonce    AES-256-GCM(KEK, DEK) + 16-byte tag
    AAD = bytes 0..5 || encode_parts("charter.dek.v1", subject_id, region)

Encrypted field (:class:`FieldCipher`), 30 + len(plaintext) bytes::

    0     1     2..13    14..
    fmt=1 alg=1 nonce    AES-256-GCM(DEK, plaintext) + 16-byte tag
    AAD = bytes 0..1 || caller's aad (normally record_aad(...))

:meth:`FieldCipher.encrypt_to` writes the same envelope in pieces (a large blob straight to
its file); there is one format, whichever way it was made.

Nonces are 12 random bytes. With random nonces NIST SP 800-38D §8.3 allows at most 2^32
encryptions per key; :class:`FieldCipher` counts and stops at :data:`ENCRYPTION_LIMIT`
(2^31) so that the data key is rotated well before.
"""

from __future__ import annotations

import hmac
import itertools
import os
import struct
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, SupportsIndex

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from charter.crypto.hashing import encode_parts, encode_text
from charter.crypto.keyring import Keyring
from charter.errors import InputError, IntegrityError

__all__ = [
    "ALG_AES_256_GCM",
    "DATA_KEY_BYTES",
    "ENCRYPTION_LIMIT",
    "FIELD_OVERHEAD",
    "FORMAT_VERSION",
    "NONCE_BYTES",
    "SLICE_BYTES",
    "TAG_BYTES",
    "WRAPPED_KEY_BYTES",
    "FieldCipher",
    "Sealing",
    "new_data_key",
    "record_aad",
    "rewrap_data_key",
    "unwrap_data_key",
    "wrap_data_key",
    "wrapped_version",
]

FORMAT_VERSION = 1
"""First byte of every envelope and wrapped key."""

ALG_AES_256_GCM = 1
"""Second byte: AES-256-GCM, 12-byte nonce, 16-byte tag."""

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

ENCRYPTION_LIMIT = 2**31
"""Encryptions one :class:`FieldCipher` performs before refusing (rotate the data key)."""

_FIELD_HEADER = bytes((FORMAT_VERSION, ALG_AES_256_GCM))
_FIELD_HEADER_BYTES = len(_FIELD_HEADER)
_FIELD_NONCE_END = _FIELD_HEADER_BYTES + NONCE_BYTES
FIELD_OVERHEAD = _FIELD_NONCE_END + TAG_BYTES
"""Bytes an encrypted field adds to its plaintext (header, nonce, tag): 30."""
SLICE_BYTES = 1 << 20
"""The slice :meth:`FieldCipher.encrypt_to` encrypts and hands out at a time by default."""
_BLOCK_ROOM = 15
"""Room an encryptor's ``update_into`` wants past the slice (a block less one)."""

_WRAP_HEADER = struct.Struct(">BBI")
_WRAP_NONCE_END = _WRAP_HEADER.size + NONCE_BYTES
WRAPPED_KEY_BYTES = _WRAP_NONCE_END + DATA_KEY_BYTES + TAG_BYTES
"""Length of a wrapped data key: 66."""

_DEK_DOMAIN = b"charter.dek.v1"
_RECORD_DOMAIN = b"charter.record.v1"


def _invalid_field(reason: str) -> IntegrityError:
    return IntegrityError(f"encrypted value rejected: {reason}", code="ciphertext_invalid")


def _invalid_wrapped(reason: str) -> IntegrityError:
    return IntegrityError(f"wrapped data key rejected: {reason}", code="wrapped_key_invalid")


def _check_data_key(dek: bytes) -> bytes:
    if not isinstance(dek, bytes | bytearray) or len(dek) != DATA_KEY_BYTES:
        raise InputError(f"a data key must be {DATA_KEY_BYTES} bytes", field="dek")
    return bytes(dek)


def _text(value: str, field: str) -> bytes:
    encoded = encode_text(value, field=field)
    if not encoded:
        raise InputError(f"{field} must not be empty", field=field)
    return encoded


# --- data keys ------------------------------------------------------------------------------


def new_data_key() -> bytes:
    """A new random 32-byte data key."""
    return os.urandom(DATA_KEY_BYTES)


def _wrap_aad(header: bytes, subject_id: str, region: str) -> bytes:
    return header + encode_parts(
        _DEK_DOMAIN, _text(subject_id, "subject_id"), _text(region, "region")
    )


def wrap_data_key(keyring: Keyring, dek: bytes, *, subject_id: str, region: str) -> bytes:
    """Encrypt ``dek`` under the keyring's current KEK, bound to ``subject_id`` and ``region``.

    The result (66 bytes) names the KEK version, so it stays readable after rotations.
    """
    dek = _check_data_key(dek)
    version, kek = keyring.current_kek()
    header = _WRAP_HEADER.pack(FORMAT_VERSION, ALG_AES_256_GCM, version)
    aad = _wrap_aad(header, subject_id, region)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(kek).encrypt(nonce, dek, aad)


def wrapped_version(wrapped: bytes) -> int:
    """The KEK version that wrapped ``wrapped`` (for rewrap jobs); checks the header only."""
    if not isinstance(wrapped, bytes | bytearray | memoryview):
        raise _invalid_wrapped("not bytes")
    if len(wrapped) != WRAPPED_KEY_BYTES:
        raise _invalid_wrapped("wrong length")
    fmt, alg, version = _WRAP_HEADER.unpack_from(wrapped)
    if fmt != FORMAT_VERSION:
        raise _invalid_wrapped("unknown format version")
    if alg != ALG_AES_256_GCM:
        raise _invalid_wrapped("unknown algorithm")
    return int(version)


def unwrap_data_key(keyring: Keyring, wrapped: bytes, *, subject_id: str, region: str) -> bytes:
    """Recover the data key; :class:`IntegrityError` if ``wrapped`` was altered, belongs to
    another subject or region, or its KEK version is unknown or destroyed."""
    version = wrapped_version(wrapped)
    wrapped = bytes(wrapped)
    kek = keyring.kek(version)  # IntegrityError: kek_unknown / kek_destroyed
    header = wrapped[: _WRAP_HEADER.size]
    aad = _wrap_aad(header, subject_id, region)
    try:
        dek = AESGCM(kek).decrypt(
            wrapped[_WRAP_HEADER.size : _WRAP_NONCE_END], wrapped[_WRAP_NONCE_END:], aad
        )
    except InvalidTag:
        raise _invalid_wrapped(
            "authentication failed (tampered, or another subject or region)"
        ) from None
    return dek


def rewrap_data_key(keyring: Keyring, wrapped: bytes, *, subject_id: str, region: str) -> bytes:
    """Unwrap ``wrapped`` with its own KEK version and wrap it again with the current one.

    A key already on the current version is checked and returned unchanged (idempotent).
    """
    dek = unwrap_data_key(keyring, wrapped, subject_id=subject_id, region=region)
    if wrapped_version(wrapped) == keyring.current_version:
        return bytes(wrapped)
    return wrap_data_key(keyring, dek, subject_id=subject_id, region=region)


# --- fields ---------------------------------------------------------------------------------


def record_aad(*, subject_id: str, service: str, data_type: str, record_id: str) -> bytes:
    """Canonical associated data naming one stored value.

    ``encode_parts("charter.record.v1", subject_id, service, data_type, record_id)``: each
    part length-prefixed, so no two identities encode alike. All parts must be non-empty.
    """
    return record_aad_prefix(subject_id=subject_id, service=service, data_type=data_type) + (
        encode_parts(_text(record_id, "record_id"))
    )


def record_aad_prefix(*, subject_id: str, service: str, data_type: str) -> bytes:
    """The first parts of :func:`record_aad`, for callers encrypting many records of one
    (subject, service, data type): ``prefix + encode_parts(record_id)`` equals the full AAD,
    because the encoding is a plain concatenation of length-prefixed parts."""
    return encode_parts(
        _RECORD_DOMAIN,
        _text(subject_id, "subject_id"),
        _text(service, "service"),
        _text(data_type, "data_type"),
    )


class Sealing:
    """One envelope of :class:`FieldCipher` being made piece by piece (see
    :meth:`FieldCipher.sealing`): ``head`` (format, algorithm, nonce), the ciphertext of each
    piece, then the tag. The pieces may have any lengths; joined, they are the envelope
    :meth:`FieldCipher.encrypt` would make with the same nonce."""

    __slots__ = ("_encryptor", "head", "length")

    def __init__(self, head: bytes, encryptor: Any) -> None:
        self.head = head
        self._encryptor = encryptor
        self.length = 0
        """Plaintext bytes sealed so far."""

    def update_into(self, piece: bytes | bytearray | memoryview, buffer: Any) -> int:
        """Encrypt the next ``piece`` into ``buffer`` (at least ``len(piece) + 15`` bytes);
        returns how many bytes of ``buffer`` it filled."""
        made: int = self._encryptor.update_into(piece, buffer)
        self.length += len(piece)
        return made

    def finalize(self) -> bytes:
        """The tag that closes the envelope (after the last piece)."""
        self._encryptor.finalize()
        return bytes(self._encryptor.tag)


class FieldCipher:
    """AES-256-GCM field encryption with one data key. Envelope: 1 byte format version, 1 byte
    algorithm id, 12-byte random nonce, ciphertext+16-byte tag. AAD = a canonical, unambiguous
    encoding (length-prefixed) of the record identity passed in.

    Build one per data key and reuse it (the AES key schedule is computed once). Thread-safe.

    ``encryptions`` counts encryptions under this key. Past ``limit`` (default
    :data:`ENCRYPTION_LIMIT`, 2^31) :meth:`encrypt` raises :class:`IntegrityError`
    (code ``key_usage_exhausted``): rotate the data key. The count lives in this object only;
    a store that keeps a data key across processes or restarts must persist the count and
    pass it back as ``encryptions=`` for the limit to cover the key's whole life.
    """

    __slots__ = ("__weakref__", "_aead", "_counter", "_encryptions", "_key", "_limit")

    def __init__(self, dek: bytes, *, encryptions: int = 0, limit: int = ENCRYPTION_LIMIT) -> None:
        self._key = _check_data_key(dek)
        self._aead = AESGCM(self._key)
        if encryptions < 0:
            raise InputError("encryptions must be >= 0", field="encryptions")
        if not 0 < limit <= ENCRYPTION_LIMIT:
            raise InputError(f"limit must be in 1..{ENCRYPTION_LIMIT}", field="limit")
        self._encryptions = encryptions
        self._limit = limit
        # next() on itertools.count is atomic under the GIL: no two threads get one number.
        self._counter = itertools.count(encryptions + 1)

    @property
    def encryptions(self) -> int:
        """Encryptions performed with this key (including the ``encryptions=`` passed in)."""
        return min(self._encryptions, self._limit)

    @property
    def limit(self) -> int:
        """Encryptions allowed before :meth:`encrypt` refuses."""
        return self._limit

    def _count(self, times: int = 1) -> None:
        """Count ``times`` encryptions; past the limit, refuse (the count still advances)."""
        n = 0
        for _ in range(times):
            n = next(self._counter)
        if n > self._limit:
            raise IntegrityError(
                f"this data key has reached its limit of {self._limit} encryptions; "
                f"rotate the data key",
                code="key_usage_exhausted",
            )
        self._encryptions = n

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``aad``; returns the envelope."""
        self._count()
        nonce = os.urandom(NONCE_BYTES)
        return _FIELD_HEADER + nonce + self._aead.encrypt(nonce, plaintext, _FIELD_HEADER + aad)

    def encrypt_to(
        self,
        plaintext: bytes | memoryview,
        *,
        aad: bytes,
        write: Callable[[memoryview], object],
        buffers: Sequence[bytearray] = (),
        slice_bytes: int = SLICE_BYTES,
    ) -> int:
        """:meth:`encrypt`, the envelope handed to ``write`` piece by piece instead of
        returned: the header and nonce, then the ciphertext a slice of ``slice_bytes`` at a
        time as it is made, then the tag. The pieces joined are the envelope
        :meth:`encrypt` makes (same format, read by :meth:`decrypt`, counted against the
        same limit); a large blob goes to its file while the next slice is encrypted, never
        whole in memory twice. Returns the envelope's length.

        The slices are encrypted into ``buffers`` in turn (each at least ``slice_bytes +
        15`` long), so ``write`` must be done with a slice before its buffer comes round
        again; without ``buffers`` each slice gets a buffer of its own (``write``'s to
        keep). Reusing buffers saves a large allocation and its page faults per slice."""
        if buffers and min(len(b) for b in buffers) < slice_bytes + _BLOCK_ROOM:
            raise InputError(
                f"each buffer holds at least slice_bytes + {_BLOCK_ROOM} bytes", field="buffers"
            )
        sealing = self.sealing(aad=aad)
        write(memoryview(sealing.head))
        source = memoryview(plaintext)
        for n, at in enumerate(range(0, len(source), slice_bytes)):
            piece = source[at : at + slice_bytes]
            buffer = buffers[n % len(buffers)] if buffers else bytearray(len(piece) + _BLOCK_ROOM)
            made = sealing.update_into(piece, buffer)
            write(memoryview(buffer)[:made])
        write(memoryview(sealing.finalize()))
        return FIELD_OVERHEAD + len(source)

    def sealing(self, *, aad: bytes) -> Sealing:
        """An envelope of :meth:`encrypt` made as its plaintext arrives, for content whose
        length is not known yet (an upload while its body is received): write
        :attr:`Sealing.head`, then what :meth:`Sealing.update_into` makes of each piece in
        turn, then :meth:`Sealing.finalize`'s tag. Counts one encryption now."""
        self._count()
        nonce = os.urandom(NONCE_BYTES)
        encryptor = Cipher(algorithms.AES(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(_FIELD_HEADER + aad)
        return Sealing(_FIELD_HEADER + nonce, encryptor)

    def same_key(self, other: FieldCipher) -> bool:
        """Both ciphers hold the same data key (compared in constant time)."""
        return hmac.compare_digest(self._key, other._key)

    def encrypt_many(self, items: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
        """:meth:`encrypt` for each ``(plaintext, aad)``, in order: the same envelopes (each
        with its own random nonce), the nonces drawn from the OS in one call instead of one
        per item. Counts every item against the limit; past it, raises before encrypting any
        (the count still advances, as a refused :meth:`encrypt` does)."""
        count = len(items)
        if not count:
            return []
        self._count(count)
        nonces = os.urandom(NONCE_BYTES * count)
        aead = self._aead
        header = _FIELD_HEADER
        out = []
        at = 0
        for plaintext, aad in items:
            nonce = nonces[at : at + NONCE_BYTES]
            at += NONCE_BYTES
            out.append(header + nonce + aead.encrypt(nonce, plaintext, header + aad))
        return out

    def decrypt(self, envelope: bytes, *, aad: bytes) -> bytes:
        """Decrypt an envelope from :meth:`encrypt` with the same ``aad``.

        :class:`IntegrityError` (code ``ciphertext_invalid``) on any altered bit, wrong
        ``aad`` or key, unknown format version or algorithm, or short input.
        """
        if len(envelope) < FIELD_OVERHEAD:
            raise _invalid_field("too short")
        if envelope[0] != FORMAT_VERSION:
            raise _invalid_field("unknown format version")
        if envelope[1] != ALG_AES_256_GCM:
            raise _invalid_field("unknown algorithm")
        try:
            return self._aead.decrypt(
                envelope[_FIELD_HEADER_BYTES:_FIELD_NONCE_END],
                envelope[_FIELD_NONCE_END:],
                _FIELD_HEADER + aad,
            )
        except InvalidTag:
            raise _invalid_field(
                "authentication failed (altered, or another key or record)"
            ) from None

    def __repr__(self) -> str:
        return f"FieldCipher(encryptions={self.encryptions}, limit={self._limit})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("a FieldCipher holds a data key and cannot be pickled or copied")
