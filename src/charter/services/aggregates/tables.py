"""
The counters of aggregated analytics (control database). No column names a person, an app
instance or a device: a row is a day, a service, a kind of measure and a module/event pair,
with how many reports added to it and their sum.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

counters = Table(
    "service_aggregates",
    metadata,
    Column("service", String(20), primary_key=True),
    Column("day", BigInteger, primary_key=True, comment="Days since the epoch (UTC)."),
    Column("kind", String(40), primary_key=True, comment="The catalog data type counted."),
    Column("module", String(40), primary_key=True),
    Column("event", String(40), primary_key=True),
    Column("reports", BigInteger, nullable=False, comment="Reports that added to this row."),
    Column("total", BigInteger, nullable=False, comment="The sum of their values."),
    comment="Aggregated analytics counters per day; never linked to anyone.",
)

register_table(
    counters,
    neither=("service", "day", "kind", "module", "event", "reports", "total"),
    erase=Erase.NONE,
    distribution="local",  # a few aggregated counters a day, linked to no one
)
