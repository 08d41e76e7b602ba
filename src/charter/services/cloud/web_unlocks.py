"""
A device approving a web session: on My cloud a person asks to open protected items in this
browser. The page's script makes an ephemeral X25519 key pair (it never leaves the page's
memory) and sends the public key; the request is bound to the signed-in session (a keyed
hash of it). An approved device lists the request with the key's fingerprint, and wraps the
protected categories' keys to that key (``CB 01``, :mod:`charter.client.e2e`); the browser
fetches the wraps and decrypts items locally. The server sees public keys and wraps only.

The approval ends with the session: it is only given to the session that asked, expires at
the latest after :data:`LIFETIME`, and signing out ends the session it was bound to.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from charter.crypto import keyed_hash
from charter.errors import InputError, NotFoundError, RefusedError
from charter.services.cloud.categories import category
from charter.services.cloud.devices import check_public_key, fingerprint
from charter.services.cloud.tables import web_unlocks

if TYPE_CHECKING:
    from charter.services.cloud.protection import Protection

MICROS = 1_000_000
LIFETIME = 3600 * MICROS
"""An approval lasts at most an hour (and never longer than the session)."""
SESSION_WRAP = b"CB\x01"
WRAP_BYTES = 3 + 16 + 32 + 32 + 16
MAX_WRAPS = 64


@dataclass(frozen=True, slots=True)
class Unlock:
    """A web session's request to open protected items."""

    id: str
    public_key: str
    fingerprint: str
    approved: bool
    wrapped: dict[str, list[bytes]]
    created_at: int
    expires_at: int


def _unlock(row: Any) -> Unlock:
    wrapped: dict[str, list[bytes]] = {}
    if row.wrapped is not None:
        for name, blobs in json.loads(bytes(row.wrapped)).items():
            wrapped[name] = [bytes.fromhex(b) for b in blobs]
    return Unlock(
        row.id,
        row.public_key,
        fingerprint(bytes.fromhex(row.public_key)),
        row.wrapped is not None,
        wrapped,
        row.created_at,
        row.expires_at,
    )


class WebUnlocks:
    """Web sessions approved by a device to open protected items in the browser."""

    def __init__(self, protection_: Protection) -> None:
        self.protection = protection_
        self.sync = protection_.sync
        self.clock = protection_.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    def _session(self, session_ref: str) -> str:
        key = self.sync.gate.keyring.hmac_key
        return keyed_hash(key, session_ref.encode(), context="cloud.web-unlock").hex()

    def ask(self, subject_id: str, session_ref: str, public_key: str) -> Unlock:
        """
        A browser session asks to open protected items (``session_ref``: the signed-in
        session it is bound to).

        Raises:
            InputError: not an X25519 public key.
            RefusedError: nothing is under advanced protection (``not_protected``).
        """
        key = check_public_key(public_key)
        if not self.protection.categories(subject_id):
            raise RefusedError("nothing is under advanced protection", code="not_protected")
        now = self.clock()
        unlock_id = "wu_" + secrets.token_hex(16)
        with self.control.begin() as conn:
            conn.execute(delete(web_unlocks).where(web_unlocks.c.expires_at <= now))
            conn.execute(
                insert(web_unlocks).values(
                    subject_id=subject_id,
                    id=unlock_id,
                    session_hash=self._session(session_ref),
                    public_key=key,
                    wrapped=None,
                    approved_by=None,
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
            )
        return self.get(subject_id, unlock_id)

    def get(self, subject_id: str, unlock_id: str, session_ref: str | None = None) -> Unlock:
        """
        A live request (for ``session_ref``: only the session that asked gets it).

        Raises:
            NotFoundError: no such request, it expired, or another session asks.
        """
        with self.control.connect() as conn:
            row = conn.execute(
                select(web_unlocks).where(
                    web_unlocks.c.subject_id == subject_id, web_unlocks.c.id == unlock_id
                )
            ).first()
        if (
            row is None
            or row.expires_at <= self.clock()
            or (session_ref is not None and row.session_hash != self._session(session_ref))
        ):
            raise NotFoundError("no such unlock request, or it has ended", field="unlock_id")
        return _unlock(row)

    def pending(self, subject_id: str) -> list[Unlock]:
        """Requests waiting for a device, newest first."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(web_unlocks)
                .where(
                    web_unlocks.c.subject_id == subject_id,
                    web_unlocks.c.wrapped.is_(None),
                    web_unlocks.c.expires_at > self.clock(),
                )
                .order_by(web_unlocks.c.created_at.desc())
            ).all()
        return [_unlock(r) for r in rows]

    def approve(
        self, subject_id: str, unlock_id: str, device_id: str, wrapped: dict[str, list[bytes]]
    ) -> Unlock:
        """
        An approved device (checked by the caller) gives the session the keys, wrapped to
        its ephemeral key: per protected category, the current key and earlier ones.

        Raises:
            InputError: a category not protected, or a malformed wrap.
            NotFoundError: no such live request.
        """
        self.get(subject_id, unlock_id)
        protected = self.protection.categories(subject_id)
        body: dict[str, list[str]] = {}
        for name, blobs in wrapped.items():
            if category(name).name not in protected:
                raise InputError(f"{name} is not under advanced protection", field="wrapped")
            if not 1 <= len(blobs) <= MAX_WRAPS or any(
                len(b) != WRAP_BYTES or not b.startswith(SESSION_WRAP) for b in blobs
            ):
                raise InputError(
                    f"the keys of {name} are not format-1 session wraps", field="wrapped"
                )
            body[name] = [b.hex() for b in blobs]
        with self.control.begin() as conn:
            conn.execute(
                update(web_unlocks)
                .where(web_unlocks.c.subject_id == subject_id, web_unlocks.c.id == unlock_id)
                .values(wrapped=json.dumps(body).encode(), approved_by=device_id)
            )
        self.protection.audit(
            subject_id, "cloud_web_unlock", {"categories": len(body), "device": device_id}
        )
        return self.get(subject_id, unlock_id)
