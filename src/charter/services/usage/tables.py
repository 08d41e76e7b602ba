"""
Tables of the usage service (control database). None holds an event's content (that is a
gate record of ``app_usage_data``): the latest installed-apps snapshot per device (a keyed
hash of the device id and the record id), essential telemetry counters (no subject at all),
and the per-person, per-purpose lifetime privacy-budget ledger.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

snapshots = Table(
    "usage_snapshots",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("device_hash", String(64), primary_key=True, comment="Keyed hash of the device id."),
    Column("record_id", String(40), nullable=False, comment="Gate record of the latest snapshot."),
    Column("day", Integer, nullable=False, comment="UTC day number the snapshot was taken."),
    Column("taken_at", BigInteger, nullable=False),
    comment="The latest installed-apps snapshot per device (its content is in the gate).",
)

essential = Table(
    "usage_essential",
    metadata,
    Column("day", Integer, primary_key=True, comment="UTC day number."),
    Column("purpose", String(20), primary_key=True, comment="system_updates | security."),
    Column("system_version", String(40), primary_key=True),
    Column("device_model", String(40), primary_key=True),
    Column("status", String(40), primary_key=True, comment="Update or patch status."),
    Column("count", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_usage_essential_expires", "expires_at"),
    comment="Essential telemetry (system updates, security): counters with no subject or device.",
)

budget = Table(
    "usage_budget",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("purpose", String(20), primary_key=True),
    Column("spent_micro", BigInteger, nullable=False, comment="Epsilon spent, in millionths."),
    Column("releases", Integer, nullable=False, comment="Releases the person contributed to."),
    Column("updated_at", BigInteger, nullable=False),
    comment="Per person and purpose: the lifetime differential-privacy budget spent.",
)

people = Table(
    "usage_people",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("first_at", BigInteger, nullable=False),
    comment="Who has sent usage events: the population an aggregate may draw on.",
)

releases = Table(
    "usage_releases",
    metadata,
    Column("release_id", String(40), primary_key=True, comment="Release id (ur_...)."),
    Column("category", String(120), primary_key=True, comment="A public category (an app)."),
    Column("query", String(40), nullable=False),
    Column("count", BigInteger, nullable=False, comment="The noisy count (never below k)."),
    Column("epsilon_micro", BigInteger, nullable=False),
    Column("released_at", BigInteger, nullable=False),
    comment="Differentially private aggregates as released: no subject, no device, no id.",
)

ldp_reports = Table(
    "usage_ldp_reports",
    metadata,
    Column("report_id", String(40), primary_key=True, comment="Report id (lr_...)."),
    Column("day", Integer, nullable=False, comment="UTC day number received."),
    Column("epsilon_micro", BigInteger, nullable=False),
    Column("a", BigInteger, nullable=False, comment="The report's hash function: multiplier."),
    Column("b", BigInteger, nullable=False, comment="The report's hash function: offset."),
    Column("bucket", Integer, nullable=False, comment="The privatised bucket."),
    Index("ix_usage_ldp_reports_eps", "epsilon_micro"),
    comment="Locally privatised app-usage reports (OLH): no subject, no device, no true value.",
)

register_table(
    ldp_reports,
    neither=("report_id", "day", "epsilon_micro", "a", "b", "bucket"),
    erase=Erase.NONE,
    distribution="key",  # one row per device report, linked to no one: spread by its id
    key_column="report_id",
)
register_table(
    people,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("first_at",),
    erase=Erase.DELETE,
)
register_table(
    releases,
    neither=("release_id", "category", "query", "count", "epsilon_micro", "released_at"),
    erase=Erase.NONE,
    distribution="local",  # released aggregates: few, read by staff
)
register_table(
    snapshots,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("device_hash", "record_id", "day", "taken_at"),
    erase=Erase.DELETE,
)
register_table(
    essential,
    neither=(
        "day", "purpose", "system_version", "device_model", "status", "count", "expires_at",
    ),
    erase=Erase.NONE,
    distribution="local",  # aggregate counters, linked to no one
)  # fmt: skip
register_table(
    budget,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("purpose", "spent_micro", "releases", "updated_at"),
    erase=Erase.DELETE,
)
