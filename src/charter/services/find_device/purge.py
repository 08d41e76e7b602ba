"""
The 30-day rule (catalog rule ``location_history_deletion``): once Find Device has stayed
off on a device for 30 consecutive days, its location history (sealed reports and the
commands of its locate operations) is destroyed. Switching it on again within the 30 days
clears ``off_since``, so the count starts over. The job works in small transactions and
finds its remaining work from the data: killed at any point, a rerun finishes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from charter.services.find_device.common import DAY, audit
from charter.services.find_device.tables import commands, devices, reports
from charter.store.engines import checkpoint

if TYPE_CHECKING:
    from charter.gate import Gate

DAYS_AFTER_OFF = 30


def purge_history(gate: Gate, *, batch: int = 1000) -> int:
    """Destroy the history of every device off for 30 days; returns how many reports went."""
    now = gate.clock()
    control = gate.stores.control()
    cutoff = now - DAYS_AFTER_OFF * DAY
    with control.connect() as conn:
        due = conn.execute(
            select(devices.c.subject_id, devices.c.id).where(
                devices.c.state == "off",
                devices.c.off_since <= cutoff,
                devices.c.history_gone_at.is_(None),
            )
        ).all()
    total = 0
    for subject_id, device_id in due:
        gone = 0
        while True:
            with control.begin() as conn:
                still = conn.execute(
                    select(devices.c.id).where(
                        devices.c.subject_id == subject_id,
                        devices.c.id == device_id,
                        devices.c.state == "off",
                        devices.c.off_since <= cutoff,
                    )
                ).first()
                if still is None:  # switched on again meanwhile: the history stays
                    break
                ids = (
                    conn.execute(
                        select(reports.c.id)
                        .where(reports.c.subject_id == subject_id, reports.c.device_id == device_id)
                        .limit(batch)
                    )
                    .scalars()
                    .all()
                )
                if not ids:
                    conn.execute(
                        delete(commands).where(
                            commands.c.subject_id == subject_id, commands.c.device_id == device_id
                        )
                    )
                    conn.execute(
                        update(devices)
                        .where(
                            devices.c.subject_id == subject_id,
                            devices.c.id == device_id,
                            devices.c.state == "off",
                        )
                        .values(history_gone_at=now)
                    )
                    break
                conn.execute(
                    delete(reports).where(reports.c.subject_id == subject_id, reports.c.id.in_(ids))
                )
                gone += len(ids)
        total += gone
        audit(gate, subject_id, "job:purge", "find_device_history_destroyed", {"reports": gone})
    if due:
        checkpoint(control)
    return total
