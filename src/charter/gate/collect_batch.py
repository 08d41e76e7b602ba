"""
:class:`CollectBatch`: the per-transaction state of one collect call in one region (the
record rows, the subjects' ciphers, the AAD prefixes, the keys' usage, the record ids), and
the driver-level statements the collector writes them with.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from charter.crypto import FieldCipher, record_aad_prefix
from charter.gate.keys import DataKeys
from charter.gate.model import Outcome
from charter.store.driver_sql import in_paramstyle

RECORD_COLUMNS = (
    "id", "subject_id", "service", "data_type", "qualifier", "purposes", "protection",
    "value", "blob", "source", "collected_at", "expires_at",
)  # fmt: skip


_VALUE = RECORD_COLUMNS.index("value")
_ID_RANDOM_BYTES = 8
_ID_LENGTH = 16 + 2 * _ID_RANDOM_BYTES

_Sealed = tuple[list[Any], bytes, bytes]
"""A record waiting for its value's encryption: the row, the plaintext, the AAD."""


def insert_records_sql(conn: Connection) -> str:
    """A driver-level INSERT (executemany over tuples: the collect hot path skips per-row
    SQLAlchemy parameter processing)."""
    return in_paramstyle(
        f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) "  # noqa: S608 - constants only
        f"VALUES ({', '.join(['?'] * len(RECORD_COLUMNS))})",
        conn.dialect.paramstyle,
    )


def count_encryptions_sql(conn: Connection) -> str:
    """A driver-level UPDATE adding ``n`` to a subject's data key's encryption count
    (executemany over ``(n, subject_id)`` tuples)."""
    return in_paramstyle(
        "UPDATE data_keys SET encryptions = encryptions + ? WHERE subject_id = ?",
        conn.dialect.paramstyle,
    )


class CollectBatch:
    """Per-transaction state of one collect call: the rows, ciphers, AAD prefixes, key usage,
    and the random bits of its record ids (drawn from the OS once per batch)."""

    def __init__(
        self,
        conn: Connection,
        region: str,
        now: int,
        keys: DataKeys,
        size: int,
        prefixes: dict[tuple[str, str, str], bytes],
    ) -> None:
        self.conn = conn
        self.keys = keys
        self.region = region
        self.now = now
        self._id_prefix = f"{now:016x}"
        self._size = max(size, 1)
        self._next_id = self._draw_ids()
        self.rows: list[list[Any]] = []
        self.ciphers: dict[str, FieldCipher] = {}
        self.prefixes = prefixes
        self.pending: dict[str, list[_Sealed]] = {}
        self.used: Counter[str] = Counter()
        self._stored: dict[int | None, Outcome] = {}

    def stored_outcome(self, expires_at: int | None) -> Outcome:
        """The outcome of an event stored with this expiry (one per expiry and batch)."""
        outcome = self._stored.get(expires_at)
        if outcome is None:
            outcome = self._stored[expires_at] = Outcome(True, "stored", "stored", True, expires_at)
        return outcome

    def new_record_id(self) -> str:
        """
        A record id ordered by time: 16 hex digits of the collection time, then 64 random
        bits. Records collected together sit together in the primary-key index, so inserting
        them and later purging them (they expire together) touches few index pages.
        """
        try:
            return self._next_id()
        except StopIteration:
            self._next_id = self._draw_ids()
            return self._next_id()

    def _draw_ids(self) -> Callable[[], str]:
        """The next ids of the batch, their random bits drawn from the OS in one call."""
        prefix = self._id_prefix
        digits = os.urandom(_ID_RANDOM_BYTES * self._size).hex()
        step = 2 * _ID_RANDOM_BYTES
        return iter(
            [prefix + digits[at : at + step] for at in range(0, len(digits), step)]
        ).__next__

    def cipher(self, subject_id: str) -> FieldCipher:
        """The subject's cipher, its key made on first use."""
        cipher = self.ciphers.get(subject_id)
        if cipher is None:
            found = self.keys.cipher(self.conn, subject_id, self.region, create=True)
            assert found is not None
            cipher = self.ciphers[subject_id] = found
        return cipher

    def aad_prefix(self, subject_id: str, service: str, data_type: str) -> bytes:
        """The AAD prefix of a (subject, service, data type)'s records: ``record_aad(...) ==
        prefix + record_id``, the prefix ending with the id's 4-byte length (every id of
        :meth:`new_record_id` has the same)."""
        key = (subject_id, service, data_type)
        prefix = self.prefixes.get(key)
        if prefix is None:
            prefix = self.prefixes[key] = record_aad_prefix(
                subject_id=subject_id, service=service, data_type=data_type
            ) + _ID_LENGTH.to_bytes(4, "big")
        return prefix

    def seal_later(self, record: list[Any], data: bytes) -> None:
        """Queue ``data`` for field encryption into ``record``'s value by
        :meth:`sealed_rows` (the subject's key is made now if it has none)."""
        subject_id = record[1]
        self.cipher(subject_id)
        prefix = self.aad_prefix(subject_id, record[2], record[3])
        self.pending.setdefault(subject_id, []).append((record, data, prefix + record[0].encode()))

    def sealed_rows(self) -> list[tuple[Any, ...]]:
        """The rows of :meth:`charter.gate.collect.Collector._prepare`, every queued value encrypted under its
        subject's key (one :meth:`FieldCipher.encrypt_many` per subject), as tuples for
        ``executemany``."""
        for subject_id, queued in self.pending.items():
            envelopes = self.ciphers[subject_id].encrypt_many([(d, a) for _, d, a in queued])
            for (record, _, _), envelope in zip(queued, envelopes, strict=True):
                record[_VALUE] = envelope
            self.used[subject_id] += len(queued)
        self.pending.clear()
        return [tuple(record) for record in self.rows]
