"""
Per-category sync switches, under the service's authorization: a person switches the sync
of one category off (and on again). While off, nothing of it is stored. For the categories
the catalog names in its ``delete_on_sync_off`` promise (Wi-Fi, frequent phrases), switching
off also deletes their cloud copy at once; the deletion is in the person's activity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from charter.services.cloud.categories import CATEGORIES, category
from charter.services.cloud.tables import settings

if TYPE_CHECKING:
    from charter.services.cloud.sync import CloudSync


def sync_settings(sync: CloudSync, subject_id: str) -> dict[str, bool]:
    """Every category with its switch (on unless the person set it off)."""
    with sync.control.connect() as conn:
        rows = conn.execute(
            select(settings.c.category, settings.c.sync).where(settings.c.subject_id == subject_id)
        ).all()
    found = {r.category: bool(r.sync) for r in rows}
    return {name: found.get(name, True) for name in CATEGORIES}


def set_sync(sync: CloudSync, subject_id: str, category_name: str, on: bool) -> int:
    """
    Switch a category's sync; returns how many cloud items switching off deleted.

    Raises:
        InputError: unknown category.
    """
    kind = category(category_name)
    now = sync.clock()
    with sync.control.begin() as conn:
        changed = conn.execute(
            update(settings)
            .where(settings.c.subject_id == subject_id, settings.c.category == kind.name)
            .values(sync=on, changed_at=now)
        ).rowcount
        if not changed:
            conn.execute(
                insert(settings).values(
                    subject_id=subject_id, category=kind.name, sync=on, changed_at=now
                )
            )
    deleted = 0
    if not on and kind.delete_on_sync_off:
        deleted = sync.delete_category(subject_id, kind.name, why="sync_off")
    gate = sync.gate
    with gate.stores.region(gate.subject(subject_id).region).begin() as conn:
        gate.journal.record(
            conn,
            "subject",
            "cloud_sync",
            subject_id,
            {"service": "cloud", "category": kind.name, "on": on, "deleted": deleted},
        )
    return deleted
