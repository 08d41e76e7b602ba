"""
Signing keys of the OpenID provider: RS256 keys in a JWK set under the data directory.

The file (``<data dir>/oidc/jwks.json``, mode 0600) is created on first use and never lives
in the repository. :meth:`KeyStore.rotate` adds a new key that signs from then on; older
keys stay published in the JWKS for verification until :meth:`KeyStore.retire` drops them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc.jwk import KeySet, RSAKey

from charter.errors import ConfigError, NotFoundError

ALGORITHM = "RS256"
KEY_BITS = 2048


class KeyStore:
    """The provider's signing keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: list[dict[str, Any]] = []
        self._signing: RSAKey | None = None
        self._signer: Signer | None = None
        self._public: dict[str, Any] | None = None
        self._load()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> KeyStore:
        """The key store of a deployment."""
        return cls(data_dir / "oidc" / "jwks.json")

    def _load(self) -> None:
        with self._lock:
            if self.path.exists():
                try:
                    self._keys = list(json.loads(self.path.read_text("utf-8"))["keys"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise ConfigError("the OIDC key file is malformed") from exc
            if not self._keys:
                self._keys = [_new_key()]
                self._save()

    def _save(self) -> None:
        self._signing = self._public = self._signer = None
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, json.dumps({"keys": self._keys}).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    def signing_key(self) -> RSAKey:
        """The newest key: it signs ID tokens (imported once: importing checks the RSA key,
        which costs tens of milliseconds)."""
        with self._lock:
            if self._signing is None:
                self._signing = RSAKey.import_key(self._keys[-1])
            return self._signing

    def signer(self) -> Signer:
        """The newest key as a compact-JWS signer (what :meth:`signing_key` signs with
        joserfc, without its per-token checks: the hot path of the refresh grant)."""
        signing = self.signing_key()
        with self._lock:
            if self._signer is None or self._signer.kid != str(self._keys[-1]["kid"]):
                self._signer = Signer(str(self._keys[-1]["kid"]), signing.private_key)
            return self._signer

    @property
    def signing_kid(self) -> str:
        """The key id of the signing key."""
        with self._lock:
            return str(self._keys[-1]["kid"])

    def public_jwks(self) -> dict[str, Any]:
        """The public JWK set (every key still published)."""
        with self._lock:
            if self._public is None:
                keys = [RSAKey.import_key(k) for k in self._keys]
                self._public = dict(KeySet(list(keys)).as_dict(private=False))
            return dict(self._public)

    def rotate(self) -> str:
        """Add a new signing key; returns its key id."""
        with self._lock:
            key = _new_key()
            self._keys.append(key)
            self._save()
            return str(key["kid"])

    def retire(self, kid: str) -> None:
        """
        Stop publishing an old key (tokens it signed no longer verify).

        Raises:
            NotFoundError: no such key, or it is the signing key.
        """
        with self._lock:
            if kid == self._keys[-1]["kid"] or kid not in {k["kid"] for k in self._keys}:
                raise NotFoundError("no such retired-able key", field="kid")
            self._keys = [k for k in self._keys if k["kid"] != kid]
            self._save()


class Signer:
    """RS256 compact JWS (RFC 7515) with one key: the header ``{"typ": "JWT", "alg": "RS256",
    "kid": ...}`` and compact JSON claims, byte for byte what ``joserfc.jwt.encode`` makes
    with the same key (RSASSA-PKCS1-v1_5 is deterministic)."""

    def __init__(self, kid: str, private_key: Any) -> None:
        self.kid = kid
        self._key = private_key
        header = {"typ": "JWT", "alg": ALGORITHM, "kid": kid}
        self._header = _b64(json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode())

    def sign(self, claims: dict[str, Any]) -> str:
        """The signed token of ``claims`` (JSON-serialisable values)."""
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
        signing_input = self._header + b"." + _b64(payload)
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return (signing_input + b"." + _b64(signature)).decode("ascii")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _new_key() -> dict[str, Any]:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(KEY_BITS, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
    return dict(key.as_dict(private=True))
