"""
Table of Mi Browser (control database): which cloud item holds each synced kind of a
person's browser data. The content itself is a cloud item (a gate record, encrypted in the
person's region); this row only names it. Keyed by the subject first.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

synced = Table(
    "browser_sync",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("kind", String(20), primary_key=True, comment="bookmarks | history | tabs | settings."),
    Column("item_id", String(40), nullable=False, comment="The cloud item holding it (ci_...)."),
    Column("updated_at", BigInteger, nullable=False),
    comment="Per person and synced kind: the cloud item holding it (content is in the gate).",
)

register_table(
    synced,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("kind", "item_id", "updated_at"),
    erase=Erase.DELETE,
)
