"""
Tables of the themes service (control database): which resource each of a person's gate
records is about, never the record's content. Keyed by the subject first; erasing an account
deletes them (the gate erases the records).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

favorites = Table(
    "themes_favorites",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("resource_id", String(20), primary_key=True, comment="A resource of the store."),
    Column("record_id", String(40), nullable=False, comment="Gate record of the favourite."),
    Column("created_at", BigInteger, nullable=False),
    comment="A signed-in person's favourite resources (the list itself is in the gate).",
)

purchases = Table(
    "themes_purchases",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("resource_id", String(20), primary_key=True, comment="A resource of the store."),
    Column("record_id", String(40), nullable=False, comment="Gate record of the download."),
    Column("price_cents", BigInteger, nullable=False),
    Column("purchased_at", BigInteger, nullable=False),
    comment="Resources a signed-in person bought or downloaded (the record is in the gate).",
)

for _table in (favorites, purchases):
    register_table(
        _table,
        subject_column="subject_id",
        reference=("subject_id",),
        neither=tuple(c.name for c in _table.c if c.name != "subject_id"),
        erase=Erase.DELETE,
    )
