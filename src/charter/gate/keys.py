"""
:class:`DataKeys`: the one door to subjects' data keys. A key is made on a subject's first
encrypted value, wrapped by the keyring's current KEK; unwrapped keys are cached by their
wrapped form (the row is read in every transaction, so a key another process destroyed or
rewrapped is never used from the cache), and so is the cipher last made from each (its AES key
schedule), reused while the row shows no one else has used the key since; destroying a key
(crypto-shredding) goes through :meth:`DataKeys.destroy`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, insert, select

from charter.clock import Clock
from charter.crypto import FieldCipher, Keyring, new_data_key, unwrap_data_key, wrap_data_key
from charter.gate.protect import CipherCache
from charter.store import schema as t

_KEY_ROW = select(t.data_keys.c.wrapped, t.data_keys.c.encryptions).where(
    t.data_keys.c.subject_id == bindparam("sid")
)

_STATUSES_AND_KEYS = (
    select(t.subjects.c.id, t.subjects.c.status, t.data_keys.c.wrapped, t.data_keys.c.encryptions)
    .select_from(t.subjects.outerjoin(t.data_keys, t.data_keys.c.subject_id == t.subjects.c.id))
    .where(t.subjects.c.id.in_(bindparam("ids", expanding=True)))
)
"""Subjects' statuses with their data keys (built once: every collect batch asks)."""


class DataKeys:
    """Per-subject AES-256 data keys: load, create, cache, forget and destroy."""

    def __init__(self, keyring: Keyring, clock: Clock, *, capacity: int = 50_000) -> None:
        self.keyring = keyring
        self._clock = clock
        self._cache = CipherCache(capacity)
        self._capacity = capacity
        self._live: dict[str, tuple[bytes, FieldCipher]] = {}
        """The last cipher made per subject with the wrapped key it came from, reused while
        the row still holds that key and the count this process's cipher has reached
        (bounded: forgotten all at once past the capacity)."""

    def cipher(
        self, conn: Connection, subject_id: str, region: str, *, create: bool = False
    ) -> FieldCipher | None:
        """
        The subject's cipher, read inside ``conn``'s transaction; with ``create``, a new key
        is made and stored when the subject has none. None when there is no key (never made,
        or destroyed: its values are unreadable for good).
        """
        row = conn.execute(_KEY_ROW, {"sid": subject_id}).first()
        if row is not None:
            return self._from_row(subject_id, region, row.wrapped, row.encryptions)
        self._forget(subject_id)
        if not create:
            return None
        dek = new_data_key()
        wrapped = wrap_data_key(self.keyring, dek, subject_id=subject_id, region=region)
        conn.execute(
            insert(t.data_keys).values(
                subject_id=subject_id,
                wrapped=wrapped,
                kek_version=self.keyring.current_version,
                encryptions=0,
                created_at=self._clock(),
            )
        )
        self._cache.put(subject_id, wrapped, dek)
        return self._remember(subject_id, wrapped, FieldCipher(dek))

    def ciphers(
        self, conn: Connection, subject_ids: Sequence[str], region: str
    ) -> dict[str, FieldCipher]:
        """The ciphers of those of ``subject_ids`` that have a key, read in one query inside
        ``conn``'s transaction."""
        k = t.data_keys
        found: dict[str, FieldCipher] = {}
        for start in range(0, len(subject_ids), 500):
            chunk = list(subject_ids[start : start + 500])
            rows = conn.execute(
                select(k.c.subject_id, k.c.wrapped, k.c.encryptions).where(
                    k.c.subject_id.in_(chunk)
                )
            )
            for r in rows:
                found[r.subject_id] = self._from_row(r.subject_id, region, r.wrapped, r.encryptions)
        return found

    def statuses_and_ciphers(
        self, conn: Connection, subject_ids: Sequence[str], region: str
    ) -> tuple[dict[str, str], dict[str, FieldCipher]]:
        """The status of each of ``subject_ids`` that exists and the ciphers of those that
        have a key, read together in one query (per 500 ids) inside ``conn``'s transaction:
        a collect batch primes itself with them."""
        status: dict[str, str] = {}
        found: dict[str, FieldCipher] = {}
        for start in range(0, len(subject_ids), 500):
            chunk = list(subject_ids[start : start + 500])
            rows = conn.execute(_STATUSES_AND_KEYS, {"ids": chunk})
            for subject_id, state, wrapped, encryptions in rows:
                status[subject_id] = state
                if wrapped is not None:
                    found[subject_id] = self._from_row(subject_id, region, wrapped, encryptions)
        return status, found

    def _from_row(
        self, subject_id: str, region: str, wrapped: bytes, encryptions: int
    ) -> FieldCipher:
        # The row is read in every transaction: another process may have destroyed
        # (shredded) the key or used it. The cipher made last time (its AES key schedule) is
        # reused only for this very key and when its count is the row's: no one else has
        # used the key since (else a new cipher starts from the row's count).
        live = self._live.get(subject_id)
        if live is not None and live[0] == wrapped and live[1].encryptions == encryptions:
            return live[1]
        dek = self._cache.get(subject_id, wrapped)
        if dek is None:
            dek = unwrap_data_key(self.keyring, wrapped, subject_id=subject_id, region=region)
            self._cache.put(subject_id, wrapped, dek)
        return self._remember(subject_id, wrapped, FieldCipher(dek, encryptions=encryptions))

    def _remember(self, subject_id: str, wrapped: bytes, cipher: FieldCipher) -> FieldCipher:
        if len(self._live) >= self._capacity:
            self._live.clear()
        self._live[subject_id] = (bytes(wrapped), cipher)
        return cipher

    def _forget(self, subject_id: str) -> None:
        self._cache.evict(subject_id)
        self._live.pop(subject_id, None)

    def destroy(self, conn: Connection, subject_id: str) -> int:
        """Delete the subject's key inside ``conn``'s transaction (crypto-shredding) and
        forget the cached copy; returns how many keys went (0 or 1)."""
        deleted = (
            conn.execute(delete(t.data_keys).where(t.data_keys.c.subject_id == subject_id)).rowcount
            or 0
        )
        self._forget(subject_id)
        return deleted

    def forget(self, subject_id: str) -> None:
        """Drop the cached key of a subject (after a rewrap, erasure or reset)."""
        self._forget(subject_id)

    def forget_all(self) -> None:
        """Drop every cached key (after a KEK rotation)."""
        self._cache.clear()
        self._live.clear()
