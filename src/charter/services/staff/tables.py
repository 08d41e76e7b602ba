"""
Tables of the Privacy Center (control database; SQLAlchemy Core).

``web_staff`` says which accounts may open the staff pages and under which handle they act
(the handle is what request histories and the audit log show, never an account id). The
handle is the only personal value, in plain (a name the staff member acts under); a staff
member's row goes when their account is erased.
Migration ``0004_web`` creates it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, UniqueConstraint

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

staff = Table(
    "web_staff",
    metadata,
    Column("subject_id", String(40), primary_key=True, comment="The staff member's account id."),
    Column("handle", String(60), nullable=False, comment="Name shown in histories, e.g. ana."),
    Column("role", String(16), nullable=False, comment="staff | admin."),
    Column("granted_at", BigInteger, nullable=False, comment="Microseconds since epoch."),
    Column("granted_by", String(80), nullable=False, comment="Who granted it (admin, cli, demo)."),
    UniqueConstraint("handle", name="uq_web_staff_handle"),
    comment="Accounts allowed on the Privacy Center's staff pages.",
)

register_table(
    staff,
    subject_column="subject_id",
    personal={"handle": "plain (the name a staff member acts under, e.g. ana)"},
    reference=("subject_id",),
    neither=("role", "granted_at", "granted_by"),
    erase=Erase.DELETE,
    distribution="reference",  # staff: a few rows, read on every staff page
)
