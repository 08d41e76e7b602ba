"""
The account's personal data, through the gate: service ``account`` of the catalog.

Writes and reads go through :class:`~charter.gate.Gate` (``collect`` / ``read``).
Two operations the gate does not offer yet are done here, narrowly, on the gate's own
``records`` table of the account's region, and are meant to move into the gate:

- :meth:`AccountRecords.password_hash` reads the stored argon2id string of the account's
  password (one column of one record; the gate's ``read`` masks it by design);
- :meth:`AccountRecords.delete` removes superseded records of service ``account`` (a
  replaced password, an edited profile, a removed device), with an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from charter.errors import RefusedError
from charter.gate import Event, Gate, RecordOut
from charter.taxonomy import Purpose

SERVICE = "account"
ACTOR = "service:account"
PURPOSE = Purpose.APP_FUNCTIONALITY


class AccountRecords:
    """Personal data of accounts, stored and read through the gate."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def write(self, subject_id: str, values: Sequence[tuple[str, Any, str | None]]) -> list[str]:
        """
        Store ``(data_type, value, source)`` triples; returns the record ids.

        Raises:
            RefusedError: the gate refused one of them (nothing is kept of a refused item).
        """
        events = [
            Event(subject_id, SERVICE, dt, PURPOSE, value, source=source)
            for dt, value, source in values
        ]
        result = self.gate.collect(events, actor=ACTOR)
        refused = [i for i in result.items if not i.accepted]
        if refused:
            raise RefusedError(refused[0].message, code=refused[0].reason)
        return [i.record_id for i in result.items if i.record_id]

    def read(self, subject_id: str, data_type: str | None = None) -> list[RecordOut]:
        """The account's records (of one data type), oldest first."""
        return self.gate.read(
            subject_id, service=SERVICE, purpose=PURPOSE, data_type=data_type, actor=ACTOR
        )

    def latest(
        self, subject_id: str, data_type: str, *, source: str | None = None
    ) -> RecordOut | None:
        """The newest record of a data type (and source), if any."""
        found = [
            r for r in self.read(subject_id, data_type) if source is None or r.source == source
        ]
        return found[-1] if found else None

    def password_hash(self, subject_id: str, *, region: str | None = None) -> bytes | None:
        """The stored argon2id string of the account's newest password record (``region``
        given: look there without resolving the subject, for decoy lookups)."""
        return self.gate.stored_secret(
            subject_id, service=SERVICE, data_type="account_password", region=region
        )

    def delete(self, subject_id: str, record_ids: Iterable[str], *, why: str) -> int:
        """Delete superseded account records of a subject; returns how many went."""
        return self.gate.delete_records(
            subject_id, record_ids, service=SERVICE, actor=ACTOR, why=why
        )

    def replace(
        self, subject_id: str, data_type: str, value: Any, *, source: str | None = None, why: str
    ) -> str:
        """Store a new value of a data type (and source) and delete the ones it supersedes."""
        old = [r.id for r in self.read(subject_id, data_type) if r.source == source]
        (record_id,) = self.write(subject_id, [(data_type, value, source)])
        self.delete(subject_id, old, why=why)
        return record_id
