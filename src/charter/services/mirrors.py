"""
Service rows that point at gate records (a favourite, a download, an install, a review) are
kept in step with the gate: the gate's records are the truth. A record can go without the
service knowing (the person withdraws the service's authorization, erases its data in the
Privacy Center, or it expires); the next listing reads which records still exist, drops the
rows whose record is gone, and shows only the rest. While the gate refuses the read (no
authorization), nothing is shown and nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete, select

from charter.errors import RefusedError
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Engine

    from charter.gate import Gate


def live_rows(
    gate: Gate,
    control: Engine,
    table: Table,
    subject_id: str,
    *,
    service: str,
    data_type: str,
    order_by: ColumnElement[Any],
) -> Sequence[Any]:
    """The subject's rows of ``table`` whose gate record (``record_id``) still exists."""
    try:
        records = gate.read(
            subject_id,
            service=service,
            purpose=Purpose.APP_FUNCTIONALITY,
            data_type=data_type,
            actor=f"service:{service}",
        )
    except RefusedError:
        return []
    live = {r.id for r in records}
    with control.connect() as conn:
        rows = conn.execute(
            select(table).where(table.c.subject_id == subject_id).order_by(order_by)
        ).all()
    stale = [r.record_id for r in rows if r.record_id not in live]
    if stale:
        drop_rows(control, table, subject_id, stale)
    return [r for r in rows if r.record_id in live]


def drop_rows(control: Engine, table: Table, subject_id: str, record_ids: Sequence[str]) -> None:
    """Delete the subject's rows of ``table`` that point at records gone from the gate."""
    with control.begin() as conn:
        conn.execute(
            delete(table).where(
                table.c.subject_id == subject_id, table.c.record_id.in_(list(record_ids))
            )
        )
