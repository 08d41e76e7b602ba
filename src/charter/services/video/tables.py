"""
Table of Mi Video (control database): whether a person uses online features or only the
local ones. Keyed by the subject.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

modes = Table(
    "video_modes",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("online", Boolean, nullable=False, comment="Online features in use (else local only)."),
    Column("changed_at", BigInteger, nullable=False),
    comment="Per person: online features or local features only (local unless set).",
)

register_table(
    modes,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("online", "changed_at"),
    erase=Erase.DELETE,
)
