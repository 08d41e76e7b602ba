"""
Keyed hashes (HMAC-SHA-256) with domain separation, and the canonical encoding they share.

Where the seed catalog says MD5 or SHA-1 (device identifiers, e-mail lookups, audit
identifiers), Charter stores ``keyed_hash(keyring.hmac_key, value, context=...)`` instead:
without the server's HMAC key a dump of the hashes cannot be brute-forced from a list of
phone numbers or IMEIs, and different contexts give unrelated outputs, so a hash leaked from
one table cannot be joined against another.

The message authenticated is ``encode_parts(b"charter.keyed_hash.v1", context, value)``:
every part is prefixed with its length, so no (context, value) pair can collide with another.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct

from charter.errors import InputError

__all__ = [
    "FINGERPRINT_HEX_CHARS",
    "HASH_BYTES",
    "MIN_KEY_BYTES",
    "encode_parts",
    "fingerprint",
    "keyed_hash",
]

HASH_BYTES = 32
"""Length of :func:`keyed_hash` output (HMAC-SHA-256)."""

MIN_KEY_BYTES = 16
"""Shortest HMAC key accepted; Charter's keyring holds 32-byte keys."""

FINGERPRINT_HEX_CHARS = 16
"""Length of :func:`fingerprint` output: 64 bits, enough to tell values apart in an audit log."""

_MAX_PART = 0xFFFF_FFFF
_DOMAIN = b"charter.keyed_hash.v1"
_LENGTH = struct.Struct(">I")


def encode_parts(*parts: bytes) -> bytes:
    """Concatenate ``parts``, each prefixed with its length as 4 bytes big-endian.

    The encoding is injective: two different tuples of parts never give the same bytes,
    which is what makes it safe as HMAC input and as AEAD associated data.
    """
    out = bytearray()
    for part in parts:
        if len(part) > _MAX_PART:
            raise InputError("a part is too long to encode (over 4 GiB)", field="parts")
        out += _LENGTH.pack(len(part))
        out += part
    return bytes(out)


def encode_text(value: str, *, field: str) -> bytes:
    """UTF-8 encode ``value`` for an encoding, with an :class:`InputError` naming ``field``."""
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string", field=field)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{field} is not valid Unicode text", field=field) from None


def keyed_hash(key: bytes, value: bytes, *, context: str) -> bytes:
    """HMAC-SHA-256 of ``value`` under ``key``, separated by ``context``; 32 bytes.

    ``context`` names the use (``"device.imei"``, ``"account.email"``, ``"fingerprint"``);
    the same value under two contexts gives unrelated hashes.
    """
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise InputError(f"the HMAC key must be at least {MIN_KEY_BYTES} bytes", field="key")
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InputError("value must be bytes", field="value")
    if not context:
        raise InputError("context must be a non-empty string", field="context")
    mac = _keyed(bytes(key)).copy()
    mac.update(encode_parts(_DOMAIN, encode_text(context, field="context"), bytes(value)))
    return mac.digest()


@functools.lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA-256 state keyed with ``key`` and nothing hashed yet, kept per key (a
    deployment has one or two): each hash copies it. ``hmac.digest`` looks the algorithm up
    in OpenSSL on every call, which is slow under OpenSSL 3 and slower still while other
    threads use OpenSSL (about 1 us alone, 10 us beside a signing thread; the copy: 1 us)."""
    return hmac.new(key, digestmod=hashlib.sha256)


def fingerprint(key: bytes, value: bytes) -> str:
    """A short keyed fingerprint of ``value`` for audit entries and logs (16 hex characters).

    Keyed, so it reveals nothing about ``value`` to whoever lacks the key, yet the same value
    always gives the same fingerprint, so entries about one subject can be correlated.
    """
    return keyed_hash(key, value, context="fingerprint").hex()[:FINGERPRINT_HEX_CHARS]
