"""
Tables of the Get Apps service (control database): which app each of a person's gate records
is about, review ratings, and Points Mall balances; never a review's text or the author's
nickname (gate records). Keyed by the subject first; erasing an account deletes them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

installs = Table(
    "get_apps_installs",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("app_id", String(20), primary_key=True, comment="An app of the store."),
    Column("record_id", String(40), nullable=False, comment="Gate record of the install."),
    Column("installed_at", BigInteger, nullable=False),
    comment="Apps a person installed through the store (the record is in the gate).",
)

reviews = Table(
    "get_apps_reviews",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Review id (rv_...)."),
    Column("app_id", String(20), nullable=False),
    Column("rating", Integer, nullable=False, comment="1 to 5 stars."),
    Column("record_id", String(40), nullable=False, comment="Gate record of text and nickname."),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_get_apps_reviews_app", "app_id", "created_at", "id"),
    comment="Reviews: app, rating and time (text and nickname are in the gate).",
)

points = Table(
    "get_apps_points",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("updated_at", BigInteger, nullable=False, comment="The last exchange."),
    comment="One row per person who exchanged points (exchanges take turns on it); points "
    "follow from the gate's records of installs, reviews and exchanges.",
)

for _table in (installs, reviews, points):
    register_table(
        _table,
        subject_column="subject_id",
        reference=("subject_id",),
        neither=tuple(c.name for c in _table.c if c.name != "subject_id"),
        erase=Erase.DELETE,
    )
