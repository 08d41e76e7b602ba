"""
Credentials: service API keys and interim user tokens, kept in the control database.

A credential is ``<prefix>_<id>_<secret>``: ``ck_`` for a service API key, ``ut_`` for a
user token. The id is public (it names the row; listing and revoking use it); the secret
is 256 random bits, shown once when the credential is made and stored only as a keyed hash
(HMAC-SHA-256 under the keyring's HMAC key, context ``apikey``), compared in constant time.

User tokens act for one subject and expire (24 hours by default, on the Charter clock);
the account service (S2) will replace them with OpenID Connect.

Every creation and revocation is recorded in the control database's audit chain, by id and
service or subject reference, never by secret.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, insert, select, update

from charter.crypto import keyed_hash
from charter.errors import AuthError, InputError, NotFoundError
from charter.services.credentials import tables as t
from charter.store import verified

if TYPE_CHECKING:
    from charter.gate import Gate

API_KEY_PREFIX = "ck"
"""Prefix of service API keys."""

USER_TOKEN_PREFIX = "ut"  # noqa: S105 (a prefix, not a secret)
"""Prefix of user tokens."""

DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600
"""How long a user token lives unless told otherwise."""

MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600
"""The longest a user token may live."""

HASH_CONTEXT = "apikey"
SECRET_BYTES = 32
ID_BYTES = 8
MICROS = 1_000_000

_ID = r"[0-9a-f]{16}"
_SECRET = r"[A-Za-z0-9_-]{43}"  # noqa: S105 (a pattern, not a secret)
_TOKEN_RE = re.compile(rf"\A(ck|ut)_({_ID})_({_SECRET})\Z")
_SERVICE_RE = re.compile(r"\A[a-z][a-z0-9_]{0,63}\Z")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A service API key as listed (never its secret)."""

    id: str
    service: str
    created_at: int
    revoked_at: int | None

    @property
    def active(self) -> bool:
        """Whether the key still authenticates."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A freshly made API key: ``secret`` is the whole key, shown this once."""

    key: ApiKey
    secret: str

    def __repr__(self) -> str:
        return f"IssuedApiKey(key={self.key!r}, secret='***')"


@dataclass(frozen=True, slots=True)
class UserToken:
    """A user token as listed (never its secret)."""

    id: str
    subject_id: str
    created_at: int
    expires_at: int
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class IssuedUserToken:
    """A freshly issued user token: ``secret`` is the whole token, shown this once."""

    token: UserToken
    secret: str

    def __repr__(self) -> str:
        return f"IssuedUserToken(token={self.token!r}, secret='***')"


def parse_credential(credential: str) -> tuple[str, str, str]:
    """
    Split a credential into (prefix, id, secret).

    Raises:
        AuthError: it is not a well-formed Charter credential (the message never echoes it).
    """
    match = _TOKEN_RE.match(credential)
    if match is None:
        raise AuthError("malformed credential", code="invalid_token")
    prefix, key_id, secret = match.groups()
    return prefix, key_id, secret


class Credentials:
    """
    Make, list, verify and revoke service API keys and user tokens.

    Args:
        control: returns the control database engine (opened lazily).
        hmac_key: the keyring's HMAC key (secrets are stored as keyed hashes under it).
        clock: microseconds since the epoch (the Charter clock).
        services: the catalog's service ids (keys are made only for declared services).
        gate: optional audit sink (``audit_admin``); pass the Charter gate.
    """

    def __init__(
        self,
        control: Callable[[], Engine],
        hmac_key: bytes,
        clock: Callable[[], int],
        services: frozenset[str],
        gate: Gate | None = None,
    ) -> None:
        self._control = control
        self._hmac_key = hmac_key
        self._clock = clock
        self._services = services
        self._gate = gate
        self._keys: verified.VerifiedCache[str] = verified.VerifiedCache()
        self._tokens: verified.VerifiedCache[tuple[str, int]] = verified.VerifiedCache()
        """Verified credentials for a few seconds (:mod:`charter.store.verified`): a
        revocation in this process is refused at once, another process's within seconds."""

    # -- helpers ------------------------------------------------------------------------------

    def _hash(self, secret: str) -> str:
        return keyed_hash(self._hmac_key, secret.encode("ascii"), context=HASH_CONTEXT).hex()

    def _new(self, prefix: str) -> tuple[str, str, str]:
        key_id = secrets.token_hex(ID_BYTES)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        return key_id, secret, f"{prefix}_{key_id}_{secret}"

    def _audit(self, actor: str, action: str, detail: dict[str, object]) -> None:
        if self._gate is not None:
            self._gate.audit_admin(actor, action, detail)

    # -- service API keys ---------------------------------------------------------------------

    def create_api_key(self, service: str, *, actor: str = "admin") -> IssuedApiKey:
        """
        Make an API key for a declared service.

        Returns:
            The key; its ``secret`` is the only copy of the full credential.

        Raises:
            InputError: the service is not in the catalog.
        """
        if not _SERVICE_RE.match(service) or service not in self._services:
            raise InputError(
                "unknown service; API keys are made only for services in the catalog",
                field="service",
            )
        key_id, secret, whole = self._new(API_KEY_PREFIX)
        now = self._clock()
        with self._control().begin() as conn:
            conn.execute(
                insert(t.api_keys).values(
                    id=key_id,
                    service=service,
                    secret_hash=self._hash(secret),
                    created_at=now,
                    revoked_at=None,
                )
            )
        self._audit(actor, "api_key_create", {"key_id": key_id, "service": service})
        return IssuedApiKey(ApiKey(key_id, service, now, None), whole)

    def list_api_keys(self, service: str | None = None) -> list[ApiKey]:
        """Every API key (optionally of one service), oldest first, without secrets."""
        k = t.api_keys
        query = select(k.c.id, k.c.service, k.c.created_at, k.c.revoked_at).order_by(
            k.c.created_at, k.c.id
        )
        if service is not None:
            query = query.where(k.c.service == service)
        with self._control().connect().execution_options(readonly=True) as conn:
            return [
                ApiKey(r.id, r.service, r.created_at, r.revoked_at) for r in conn.execute(query)
            ]

    def revoke_api_key(self, key_id: str, *, actor: str = "admin") -> ApiKey:
        """
        Revoke an API key by id; it stops authenticating at once. Revoking twice is harmless.

        Raises:
            NotFoundError: no such key.
        """
        k = t.api_keys
        now = self._clock()
        with self._control().begin() as conn:
            row = conn.execute(
                select(k.c.service, k.c.created_at, k.c.revoked_at).where(k.c.id == key_id)
            ).first()
            if row is None:
                raise NotFoundError("no such API key", field="key_id")
            revoked_at = row.revoked_at
            if revoked_at is None:
                revoked_at = now
                verified.revoked_on_commit(conn)
                conn.execute(update(k).where(k.c.id == key_id).values(revoked_at=now))
        self._audit(actor, "api_key_revoke", {"key_id": key_id, "service": row.service})
        return ApiKey(key_id, row.service, row.created_at, revoked_at)

    def verify_api_key(self, credential: str) -> str:
        """
        Check a service API key.

        Returns:
            The service id the key belongs to.

        Raises:
            AuthError: malformed, unknown, wrong secret or revoked (one message for all).
        """
        found = self._keys.get(credential)
        if found is not None:
            return found
        at_epoch = verified.epoch()
        prefix, key_id, secret = parse_credential(credential)
        if prefix != API_KEY_PREFIX:
            raise AuthError("not a service API key", code="invalid_token")
        k = t.api_keys
        with self._control().connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(k.c.service, k.c.secret_hash, k.c.revoked_at).where(k.c.id == key_id)
            ).first()
        expected = row.secret_hash if row is not None else "0" * 64
        good = hmac.compare_digest(self._hash(secret), expected)
        if row is None or not good or row.revoked_at is not None:
            raise AuthError("invalid, unknown or revoked credential", code="invalid_token")
        self._keys.put(credential, str(row.service), at_epoch)
        return str(row.service)

    # -- user tokens --------------------------------------------------------------------------

    def issue_user_token(
        self, subject_id: str, *, ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS, actor: str = "admin"
    ) -> IssuedUserToken:
        """
        Issue a token that acts for one subject until it expires or is revoked.

        The caller must have checked that the subject exists (``gate.subject``).

        Raises:
            InputError: the lifetime is not between one second and 30 days.
        """
        if not 0 < ttl_seconds <= MAX_TOKEN_TTL_SECONDS:
            raise InputError(
                f"a token lives between 1 second and {MAX_TOKEN_TTL_SECONDS // 86400} days",
                field="ttl_seconds",
            )
        token_id, secret, whole = self._new(USER_TOKEN_PREFIX)
        now = self._clock()
        expires = now + ttl_seconds * MICROS
        with self._control().begin() as conn:
            conn.execute(
                insert(t.user_tokens).values(
                    id=token_id,
                    subject_id=subject_id,
                    secret_hash=self._hash(secret),
                    created_at=now,
                    expires_at=expires,
                    revoked_at=None,
                )
            )
        self._audit(
            actor,
            "user_token_issue",
            {"token_id": token_id, "subject": self._subject_ref(subject_id), "expires_at": expires},
        )
        return IssuedUserToken(UserToken(token_id, subject_id, now, expires, None), whole)

    def list_user_tokens(self, subject_id: str) -> list[UserToken]:
        """Every token of a subject (including expired and revoked ones), oldest first."""
        u = t.user_tokens
        query = (
            select(u.c.id, u.c.subject_id, u.c.created_at, u.c.expires_at, u.c.revoked_at)
            .where(u.c.subject_id == subject_id)
            .order_by(u.c.created_at, u.c.id)
        )
        with self._control().connect().execution_options(readonly=True) as conn:
            return [
                UserToken(r.id, r.subject_id, r.created_at, r.expires_at, r.revoked_at)
                for r in conn.execute(query)
            ]

    def revoke_user_token(self, token_id: str, *, actor: str = "admin") -> None:
        """
        Revoke a user token by id. Revoking twice is harmless.

        Raises:
            NotFoundError: no such token.
        """
        u = t.user_tokens
        now = self._clock()
        with self._control().begin() as conn:
            row = conn.execute(
                select(u.c.subject_id, u.c.revoked_at).where(u.c.id == token_id)
            ).first()
            if row is None:
                raise NotFoundError("no such token", field="token_id")
            if row.revoked_at is None:
                verified.revoked_on_commit(conn)
                conn.execute(update(u).where(u.c.id == token_id).values(revoked_at=now))
        self._audit(
            actor,
            "user_token_revoke",
            {"token_id": token_id, "subject": self._subject_ref(row.subject_id)},
        )

    def verify_user_token(self, credential: str) -> str:
        """
        Check a user token.

        Returns:
            The subject id the token acts for.

        Raises:
            AuthError: malformed, unknown, wrong secret, revoked or expired (one message).
        """
        found = self._tokens.get(credential)
        if found is not None and found[1] > self._clock():
            return found[0]
        at_epoch = verified.epoch()
        prefix, token_id, secret = parse_credential(credential)
        if prefix != USER_TOKEN_PREFIX:
            raise AuthError("not a user token", code="invalid_token")
        u = t.user_tokens
        with self._control().connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(u.c.subject_id, u.c.secret_hash, u.c.expires_at, u.c.revoked_at).where(
                    u.c.id == token_id
                )
            ).first()
        expected = row.secret_hash if row is not None else "0" * 64
        good = hmac.compare_digest(self._hash(secret), expected)
        if row is None or not good or row.revoked_at is not None or row.expires_at <= self._clock():
            raise AuthError("invalid, unknown, revoked or expired credential", code="invalid_token")
        self._tokens.put(credential, (str(row.subject_id), int(row.expires_at)), at_epoch)
        return str(row.subject_id)

    def _subject_ref(self, subject_id: str) -> str | None:
        return self._gate.subject_ref(subject_id) if self._gate is not None else None
