"""
The gate: the only code that writes or reads personal data, enforcing the catalog on every
write and read (consent, purpose, protection, retention, residency, audit).

- :mod:`.facade`: :class:`Gate`, the one object the rest of Charter holds;
- :mod:`.subjects`, :mod:`.switches`, :mod:`.collect`, :mod:`.read`: its parts;
- :mod:`.keys`: :class:`DataKeys`, the one door to data keys; :mod:`.protect`: protection
  at rest; :mod:`.journal`: the audit log (:class:`Journal` writes every entry);
- :mod:`.erasure`, :mod:`.export`, :mod:`.jobs`: erasure primitives, export reads, purge
  and key rotation.
"""

from charter.gate.blobs import StagedBlob
from charter.gate.facade import Gate
from charter.gate.journal import Journal
from charter.gate.keys import DataKeys
from charter.gate.model import (
    ACTIVE,
    MAX_BATCH,
    BatchResult,
    Event,
    EventBatch,
    ItemResult,
    Outcome,
    PasswordHash,
    RecordOut,
    Subject,
    SwitchChange,
    new_id,
    purposes_of,
)
from charter.gate.protect import PasswordHashing

__all__ = [
    "ACTIVE",
    "MAX_BATCH",
    "BatchResult",
    "DataKeys",
    "Event",
    "EventBatch",
    "Gate",
    "ItemResult",
    "Journal",
    "Outcome",
    "PasswordHash",
    "PasswordHashing",
    "RecordOut",
    "StagedBlob",
    "Subject",
    "SwitchChange",
    "new_id",
    "purposes_of",
]
