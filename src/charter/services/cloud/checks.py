"""
The checks a new item's content meets before it is stored, each read in a connection the
caller gives: its category's sync is on, and it fits the person's plan. One upload checks
them in one read transaction when its body is announced, and again in the transaction
that writes its item (so a switch-off or a quota change while the body arrived is seen
where the write happens).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, bindparam, insert, select, update

from charter.errors import RefusedError
from charter.services.cloud.plans import DEFAULT_PLAN, PLANS, Plan
from charter.services.cloud.tables import accounts, settings

# Built once (each upload runs them twice): building a statement costs more than running it.
_SUBJECT: BindParameter[str] = bindparam("subject")
_SYNC = select(settings.c.sync).where(
    settings.c.subject_id == _SUBJECT, settings.c.category == bindparam("category")
)
_USAGE = select(accounts.c.plan, accounts.c.used_bytes).where(accounts.c.subject_id == _SUBJECT)
_TAKE = (
    update(accounts)
    .where(accounts.c.subject_id == _SUBJECT)
    .values(seq=accounts.c.seq + 1, used_bytes=accounts.c.used_bytes + bindparam("growth"))
    .returning(accounts.c.seq, accounts.c.plan, accounts.c.used_bytes)
)


def check_sync_on(conn: Any, subject_id: str, category_name: str) -> None:
    """
    Raises:
        RefusedError: the person switched this category's sync off (``sync_off``).
    """
    on = conn.execute(_SYNC, {"subject": subject_id, "category": category_name}).scalar()
    if on is False:
        raise RefusedError(
            f"sync of {category_name} is switched off for this account; switch it on "
            "to store its items",
            code="sync_off",
        )


def account_usage(conn: Any, subject_id: str) -> tuple[Plan, int]:
    """The person's plan and the bytes their items use (live and trashed)."""
    row = conn.execute(_USAGE, {"subject": subject_id}).first()
    if row is None:
        return PLANS[DEFAULT_PLAN], 0
    return PLANS.get(row.plan, PLANS[DEFAULT_PLAN]), int(row.used_bytes)


def ensure_account(conn: Any, subject_id: str) -> None:
    """Create the person's counter row on their first change, in ``conn``."""
    exists = conn.execute(
        select(accounts.c.subject_id).where(accounts.c.subject_id == subject_id)
    ).first()
    if exists is None:
        conn.execute(
            insert(accounts).values(subject_id=subject_id, seq=0, plan=DEFAULT_PLAN, used_bytes=0)
        )


def take_change(conn: Any, subject_id: str, growth: int) -> tuple[int, Plan, int]:
    """Take the account's next change number and count ``growth`` bytes, in ``conn``:
    returns the number, the plan and the bytes used before the change."""
    for _ in range(2):
        row = conn.execute(_TAKE, {"subject": subject_id, "growth": growth}).first()
        if row is not None:
            plan = PLANS.get(row.plan, PLANS[DEFAULT_PLAN])
            return int(row.seq), plan, int(row.used_bytes) - growth
        ensure_account(conn, subject_id)  # the first change: then once more
    raise AssertionError("the account row was just made")  # pragma: no cover


def check_fits(plan: Plan, used: int, growth: int) -> None:
    """
    Raises:
        RefusedError: ``growth`` more bytes would not fit ``plan`` with ``used`` bytes used
            (``quota_exceeded``, with the figures).
    """
    if growth > 0 and used + growth > plan.quota_bytes:
        raise RefusedError(
            f"this upload needs {growth} bytes and {plan.quota_bytes - used} of the "
            f"{plan.quota_bytes} bytes of the {plan.name} plan are left; delete items, "
            "empty the trash or choose a larger plan",
            code="quota_exceeded",
        )
