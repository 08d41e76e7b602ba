"""
The journal: the tamper-evident audit log of every database (a hash chain per database,
RFC 6962 signed tree heads, witness files, inclusion and consistency proofs).

:class:`Journal` is the only way anything writes an audit entry: inside the transaction of
the change it records, with the subject named by a keyed fingerprint, never by its id.
Reading and checking the log goes through the functions re-exported here. See
``docs/audit.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from charter.clock import Clock
from charter.crypto import Keyring, fingerprint
from charter.gate.journal.chain import (
    ADVISORY_LOCK_KEY,
    GENESIS,
    AuditEntry,
    append_entries,
    entry_hash,
)
from charter.gate.journal.proofs import (
    consistency_proof,
    inclusion_proof,
    tree_head,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from charter.gate.journal.treehead import (
    SignedTreeHead,
    read_witness,
    verify_tree_head,
    write_witness,
)
from charter.gate.journal.verify import AuditReport, verify_chain, verify_range
from charter.store.regions import RegionStores


class Journal:
    """Writes audit entries: the one door to the audit log of every database."""

    def __init__(self, keyring: Keyring, stores: RegionStores, clock: Clock) -> None:
        self._key = keyring.hmac_key
        self._stores = stores
        self._clock = clock

    def subject_ref(self, subject_id: str) -> str:
        """The keyed fingerprint that names a subject in audit entries (never the id)."""
        return fingerprint(self._key, subject_id.encode())

    def record(
        self,
        conn: Connection,
        actor: str,
        action: str,
        subject_id: str | None,
        detail: Mapping[str, object],
        *,
        at: int | None = None,
    ) -> None:
        """
        Append one entry inside ``conn``'s transaction: it exists exactly when the change
        it records commits. ``detail`` holds codes and counts, never personal values.
        """
        ref = self.subject_ref(subject_id) if subject_id else None
        entry = AuditEntry(self._clock() if at is None else at, actor, action, ref, dict(detail))
        append_entries(conn, [entry])

    def record_many(self, conn: Connection, entries: Sequence[AuditEntry]) -> None:
        """Append prepared entries (subject already fingerprinted) in one statement."""
        append_entries(conn, entries)

    def record_admin(self, actor: str, action: str, detail: Mapping[str, object]) -> None:
        """An administrative action, in the control database's log, in its own transaction."""
        with self._stores.control().begin() as conn:
            self.record(conn, actor, action, None, detail)


__all__ = [
    "ADVISORY_LOCK_KEY",
    "GENESIS",
    "AuditEntry",
    "AuditReport",
    "Journal",
    "SignedTreeHead",
    "append_entries",
    "consistency_proof",
    "entry_hash",
    "inclusion_proof",
    "read_witness",
    "tree_head",
    "verify_chain",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "verify_range",
    "verify_tree_head",
    "write_witness",
]
