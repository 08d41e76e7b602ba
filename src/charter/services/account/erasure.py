"""
Erasing an account's own state: every control-database row the account service keeps for a
subject (account state, blind-indexed identifiers, devices, sessions and their tokens, second
factors, challenges, OAuth grants). The rights engine's account deletion (R5) calls this
first, through :attr:`charter.app.Charter.erasure_hooks`, so sign-in fails at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from charter.services.account import tables as at

if TYPE_CHECKING:
    from charter.app import Charter


def forget_account_rows(charter: Charter, subject_id: str) -> int:
    """Delete every control-database row of the account service for ``subject_id``."""
    removed = 0
    with charter.stores.control().begin() as conn:
        session_ids = list(
            conn.execute(
                select(at.sessions.c.id).where(at.sessions.c.subject_id == subject_id)
            ).scalars()
        )
        if session_ids:
            removed += (
                conn.execute(
                    delete(at.tokens).where(at.tokens.c.session_id.in_(session_ids))
                ).rowcount
                or 0
            )
        for table in at.ERASE_BY_SUBJECT:
            removed += (
                conn.execute(delete(table).where(table.c.subject_id == subject_id)).rowcount or 0
            )
    return removed
