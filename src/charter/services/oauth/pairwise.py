"""
Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1): the "UnionID".

``sub = base64url(HMAC-SHA-256(K, sector_identifier || account_id))`` where ``K`` is derived
from the keyring's HMAC key (context ``oidc.pairwise``). The same account gets the same
``sub`` at every client of one sector, a different, unlinkable one in every other sector,
and the value survives restarts and signing-key rotation (it depends on neither).
"""

from __future__ import annotations

import base64

from charter.crypto import Keyring, encode_parts, keyed_hash


def pairwise_sub(keyring: Keyring, sector: str, account_id: str) -> str:
    """The ``sub`` of ``account_id`` for clients of ``sector`` (43 base64url characters)."""
    digest = keyed_hash(
        keyring.hmac_key,
        encode_parts(sector.encode(), account_id.encode()),
        context="oidc.pairwise",
    )
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
