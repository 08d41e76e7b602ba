"""
Removing records: the one function that deletes a subject's records (and their blob files)
inside a caller's transaction, used by withdrawal and by :meth:`Gate.delete_records`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select

from charter.gate.blobs import remove_blobs
from charter.store import schema as t
from charter.store.regions import RegionStores


def remove_records(
    conn: Connection,
    stores: RegionStores,
    region: str,
    subject_id: str,
    *,
    service: str | None = None,
    record_ids: Sequence[str] | None = None,
) -> int:
    """
    Delete a subject's records (all, one service's, or some by id) inside ``conn``'s
    transaction; their blob files are unlinked first, so a rerun never finds a blob whose
    row is gone. Returns how many records went. Auditing is the caller's.
    """
    r = t.records
    where = [r.c.subject_id == subject_id]
    if service is not None:
        where.append(r.c.service == service)
    if record_ids is not None:
        where.append(r.c.id.in_(list(record_ids)))
    blobs = conn.execute(select(r.c.blob).where(*where, r.c.blob.is_not(None))).scalars().all()
    remove_blobs(stores.blob_dir(region), blobs)
    return conn.execute(delete(r).where(*where)).rowcount or 0
