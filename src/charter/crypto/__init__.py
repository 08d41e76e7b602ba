"""
Charter's cryptography: the keyring, envelope encryption of data keys, field encryption
and keyed hashes. See ``docs/crypto.md``.

Everything here uses AES-256-GCM and HMAC-SHA-256 from the ``cryptography`` package and
the standard library; nothing is home-made beyond the byte layouts.
"""

from __future__ import annotations

from charter.crypto.envelope import (
    ALG_AES_256_GCM,
    DATA_KEY_BYTES,
    ENCRYPTION_LIMIT,
    FIELD_OVERHEAD,
    FORMAT_VERSION,
    NONCE_BYTES,
    SLICE_BYTES,
    TAG_BYTES,
    WRAPPED_KEY_BYTES,
    FieldCipher,
    Sealing,
    new_data_key,
    record_aad,
    record_aad_prefix,
    rewrap_data_key,
    unwrap_data_key,
    wrap_data_key,
    wrapped_version,
)
from charter.crypto.hashing import encode_parts, fingerprint, keyed_hash
from charter.crypto.keyring import DEFAULT_FILENAME, ENV_VAR, KEY_BYTES, Keyring

__all__ = [
    "ALG_AES_256_GCM",
    "DATA_KEY_BYTES",
    "DEFAULT_FILENAME",
    "ENCRYPTION_LIMIT",
    "ENV_VAR",
    "FIELD_OVERHEAD",
    "FORMAT_VERSION",
    "KEY_BYTES",
    "NONCE_BYTES",
    "SLICE_BYTES",
    "TAG_BYTES",
    "WRAPPED_KEY_BYTES",
    "FieldCipher",
    "Keyring",
    "Sealing",
    "encode_parts",
    "fingerprint",
    "keyed_hash",
    "new_data_key",
    "record_aad",
    "record_aad_prefix",
    "rewrap_data_key",
    "unwrap_data_key",
    "wrap_data_key",
    "wrapped_version",
]
