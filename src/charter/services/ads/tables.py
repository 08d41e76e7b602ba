"""
Table of the advertising service (control database): each device's current advertising ID,
kept only as a keyed hash. A reset replaces the hash in place, so no row ever holds an old
ID beside a new one. Segments and ad interactions are gate records (service
``advertisement``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

ad_ids = Table(
    "ads_ids",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("device_hash", String(64), primary_key=True, comment="Keyed hash of the device id."),
    Column("id_hash", String(64), nullable=False, comment="Keyed hash of the advertising ID."),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_ads_ids_id_hash", "id_hash"),
    comment="Each device's current advertising ID (keyed hash; a reset overwrites it).",
)

register_table(
    ad_ids,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("device_hash", "id_hash", "created_at"),
    erase=Erase.DELETE,
)
