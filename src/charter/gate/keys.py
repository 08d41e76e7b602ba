"""
:class:`DataKeys`: the one door to subjects' data keys. A key is made on a subject's first
encrypted value, wrapped by the keyring's current KEK; unwrapped keys are cached by their
wrapped form (the row is read in every transaction, so a key another process destroyed or
rewrapped is never used from the cache); destroying a key (crypto-shredding) goes through :meth:`DataKeys.destroy`.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from charter.clock import Clock
from charter.crypto import FieldCipher, Keyring, new_data_key, unwrap_data_key, wrap_data_key
from charter.gate.protect import CipherCache
from charter.store import schema as t


class DataKeys:
    """Per-subject AES-256 data keys: load, create, cache, forget and destroy."""

    def __init__(self, keyring: Keyring, clock: Clock, *, capacity: int = 50_000) -> None:
        self.keyring = keyring
        self._clock = clock
        self._cache = CipherCache(capacity)

    def cipher(
        self, conn: Connection, subject_id: str, region: str, *, create: bool = False
    ) -> FieldCipher | None:
        """
        The subject's cipher, read inside ``conn``'s transaction; with ``create``, a new key
        is made and stored when the subject has none. None when there is no key (never made,
        or destroyed: its values are unreadable for good).
        """
        row = conn.execute(
            select(t.data_keys.c.wrapped, t.data_keys.c.encryptions).where(
                t.data_keys.c.subject_id == subject_id
            )
        ).first()
        if row is not None:
            # The row is read every time: another process may have destroyed (shredded) the
            # key or used it; only the unwrapping is saved, and only for this very key.
            dek = self._cache.get(subject_id, row.wrapped)
            if dek is None:
                dek = unwrap_data_key(
                    self.keyring, row.wrapped, subject_id=subject_id, region=region
                )
                self._cache.put(subject_id, row.wrapped, dek)
            return FieldCipher(dek, encryptions=row.encryptions)
        self._cache.evict(subject_id)
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
        return FieldCipher(dek)

    def destroy(self, conn: Connection, subject_id: str) -> int:
        """Delete the subject's key inside ``conn``'s transaction (crypto-shredding) and
        forget the cached copy; returns how many keys went (0 or 1)."""
        deleted = (
            conn.execute(delete(t.data_keys).where(t.data_keys.c.subject_id == subject_id)).rowcount
            or 0
        )
        self._cache.evict(subject_id)
        return deleted

    def forget(self, subject_id: str) -> None:
        """Drop the cached key of a subject (after a rewrap, erasure or reset)."""
        self._cache.evict(subject_id)

    def forget_all(self) -> None:
        """Drop every cached key (after a KEK rotation)."""
        self._cache.clear()
