"""Pins the public API of charter.crypto (the store builds on it)."""

from __future__ import annotations

import charter.crypto


def test_exported_members() -> None:
    assert sorted(charter.crypto.__all__) == sorted(
        [
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
    )
    for name in charter.crypto.__all__:
        assert getattr(charter.crypto, name) is not None
