"""
The gate: the only code that writes or reads personal data, enforcing the catalog on every
write and read (consent, purpose, protection, retention, residency, audit).
"""

from charter.gate.core import (
    BatchResult,
    Event,
    Gate,
    ItemResult,
    RecordOut,
    Subject,
    SwitchChange,
    new_id,
)

__all__ = [
    "BatchResult",
    "Event",
    "Gate",
    "ItemResult",
    "RecordOut",
    "Subject",
    "SwitchChange",
    "new_id",
]
