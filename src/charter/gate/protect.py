"""
Protection of values at rest, as each inventory row declares it.

- field encryption: AES-256-GCM with the subject's data key; the associated data binds the
  ciphertext to (subject, service, data type, record id);
- keyed hash: HMAC-SHA-256 with the server secret, per (service, data type) context; the value
  itself is not kept;
- password hash: argon2id over an HMAC of the password with the server pepper;
- plain: stored as given, behind the gate's access control;
- not stored: never reaches this module.

Values are JSON: encoded canonically (UTF-8, compact) before protection.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import orjson
from argon2 import PasswordHasher

from charter.crypto import FieldCipher, Keyring, keyed_hash, record_aad
from charter.errors import InputError
from charter.gate.model import PasswordHash
from charter.taxonomy import AtRest

MAX_VALUE_BYTES = 64 * 1024
"""Larger values go to blobs."""


class PasswordHashing:
    """
    The argon2id hasher of one gate's ``password_hash`` values. The composition root picks
    its parameters from settings (OWASP's minimum, 19 MiB and t=2, unless told otherwise);
    :meth:`use` changes them for new hashes (old ones are upgraded at the next sign-in).
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

    def use(self, hasher: PasswordHasher) -> None:
        """Hash new passwords with ``hasher``."""
        self.hasher = hasher

    def hash(self, peppered: str) -> bytes:
        """The stored form of a peppered password."""
        return self.hasher.hash(peppered).encode("ascii")


def peppered_password(keyring: Keyring, data: bytes) -> str:
    """The argon2 input for a password's canonical bytes: HMAC-SHA-256 with the pepper."""
    return keyed_hash(keyring.pepper, data, context="password").hex()


def blob_aad(subject_id: str, record_id: str) -> bytes:
    """The associated data that binds an encrypted blob to its subject and record."""
    return b"blob:" + subject_id.encode() + b":" + record_id.encode()


def stored_password_hash(value: PasswordHash) -> bytes:
    """
    The stored form of a password hash made beforehand by the account service.

    Raises:
        InputError: not an argon2id string.
    """
    encoded = value.encoded
    if not (isinstance(encoded, str) and encoded.startswith("$argon2id$") and len(encoded) < 512):
        raise InputError("a prepared password hash must be an argon2id string", field="value")
    return encoded.encode("ascii")


def encode_value(value: Any) -> bytes:
    """The canonical bytes of a JSON value (UTF-8, compact, sorted keys)."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if b"null" in data and value is not None:
            # orjson writes NaN and infinities as null; the strict encoder refuses them.
            json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
        raise InputError(
            "value must be JSON (string, number, boolean, list or object)", field="value"
        ) from exc
    if len(data) > MAX_VALUE_BYTES:
        raise InputError(
            f"value is larger than {MAX_VALUE_BYTES} bytes; send large content as a blob",
            field="value",
        )
    return data


def decode_value(data: bytes) -> Any:
    """The JSON value of canonical bytes."""
    return json.loads(data)


class CipherCache:
    """A bounded cache of unwrapped data keys by subject id, each kept with the wrapped form
    it came from: a lookup names the wrapped key just read, so a key replaced or destroyed
    elsewhere is never returned."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject_id: str, wrapped: bytes) -> bytes | None:
        """The cached data key of a subject, if it was unwrapped from ``wrapped``."""
        with self._lock:
            item = self._items.get(subject_id)
            if item is None or item[0] != wrapped:
                return None
            self._items.move_to_end(subject_id)
            return item[1]

    def put(self, subject_id: str, wrapped: bytes, dek: bytes) -> None:
        """Remember a subject's data key, evicting the least recently used beyond capacity."""
        with self._lock:
            self._items[subject_id] = (bytes(wrapped), dek)
            self._items.move_to_end(subject_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def evict(self, subject_id: str) -> None:
        """Forget a subject's key (after erasure or rewrap)."""
        with self._lock:
            self._items.pop(subject_id, None)

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._items.clear()


def protect(
    protection: AtRest,
    data: bytes,
    *,
    keyring: Keyring,
    passwords: PasswordHashing,
    cipher: FieldCipher | None,
    subject_id: str,
    service: str,
    data_type: str,
    record_id: str,
) -> bytes:
    """The stored form of ``data`` under ``protection``."""
    if protection is AtRest.FIELD_ENCRYPTION:
        if cipher is None:  # pragma: no cover - the gate always supplies one
            raise RuntimeError("field encryption needs the subject's data key")
        aad = record_aad(
            subject_id=subject_id, service=service, data_type=data_type, record_id=record_id
        )
        return cipher.encrypt(data, aad=aad)
    if protection is AtRest.KEYED_HASH:
        return keyed_hash(keyring.hmac_key, data, context=f"value:{service}:{data_type}")
    if protection is AtRest.PASSWORD_HASH:
        return passwords.hash(peppered_password(keyring, data))
    if protection is AtRest.PLAIN:
        return data
    raise ValueError(f"{protection.value} values are never stored")


def reveal(
    protection: AtRest,
    stored: bytes,
    *,
    cipher: FieldCipher | None,
    subject_id: str,
    service: str,
    data_type: str,
    record_id: str,
) -> Any:
    """The value a reader gets back: decrypted, or a marker for one-way protections."""
    if protection is AtRest.FIELD_ENCRYPTION:
        if cipher is None:
            return {"unavailable": "data key destroyed"}
        aad = record_aad(
            subject_id=subject_id, service=service, data_type=data_type, record_id=record_id
        )
        return decode_value(cipher.decrypt(stored, aad=aad))
    if protection is AtRest.KEYED_HASH:
        return {"keyed_hash": stored.hex()}
    if protection is AtRest.PASSWORD_HASH:
        return {"password_hash": "argon2id"}
    return decode_value(stored)
