"""
The OAuth 2.0 / OpenID Connect provider (seed 4.3 "OAuth 2.0 Authorization", SPEC S2).

Authorization code flow with PKCE (S256 only), rotating refresh tokens, revocation,
discovery, JWKS with key rotation and userinfo, built on Authlib's authorization server.
Each client's sector gets its own pairwise ``sub`` ("UnionID"); only ``sub``, ``nickname`` and
``picture`` are ever released. See ``docs/oauth.md``.
"""

from __future__ import annotations

from charter.services.oauth.clients import Client, ClientRegistry, IssuedClient
from charter.services.oauth.jwks import KeyStore
from charter.services.oauth.pairwise import pairwise_sub
from charter.services.oauth.provider import OAuthProvider

__all__ = ["Client", "ClientRegistry", "IssuedClient", "KeyStore", "OAuthProvider", "pairwise_sub"]
