"""
The journal: the tamper-evident audit log of every database (a hash chain per database,
RFC 6962 signed tree heads, witness files, inclusion and consistency proofs).

:class:`Journal` is the only way anything writes an audit entry: inside the transaction of
the change it records, with the subject named by a keyed fingerprint, never by its id.
Reading and checking the log goes through the functions re-exported here. See
``docs/audit.md``.
"""

from __future__ import annotations

from charter.gate.journal.chain import (
    ADVISORY_LOCK_KEY,
    GENESIS,
    AuditEntry,
    append_entries,
    entry_hash,
)
from charter.gate.journal.ledger import Journal, LogEntry
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

__all__ = [
    "ADVISORY_LOCK_KEY",
    "GENESIS",
    "AuditEntry",
    "AuditReport",
    "Journal",
    "LogEntry",
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
