"""
Removing records: the one function that deletes a subject's records (and their blob files)
inside a caller's transaction, used by withdrawal and by :meth:`Gate.delete_records`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete

from charter.gate.blobs import remove_blobs
from charter.store import schema as t
from charter.store.driver_sql import execute, in_paramstyle
from charter.store.regions import RegionStores

_DELETE_OF_SUBJECT = "DELETE FROM records WHERE subject_id = ? RETURNING blob"
_DELETE_OF_SERVICE = "DELETE FROM records WHERE subject_id = ? AND service = ? RETURNING blob"


def _sql(statement: str, conn: Connection) -> str:
    return in_paramstyle(statement, conn.dialect.paramstyle)


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
    transaction, in one statement that returns their blob names; those blob files are
    unlinked before the transaction commits, so a rerun never finds a blob whose row is gone
    (a crash in between rolls the rows back, and unlinking a missing file is fine). Returns
    how many records went. Auditing is the caller's.
    """
    if record_ids is None:  # a withdrawal's or an erasure's: a fixed statement, to the driver
        if service is None:
            rows = execute(conn, _sql(_DELETE_OF_SUBJECT, conn), (subject_id,)).all()
        else:
            rows = execute(conn, _sql(_DELETE_OF_SERVICE, conn), (subject_id, service)).all()
        gone = [row[0] for row in rows]
    else:
        r = t.records
        where = [r.c.subject_id == subject_id, r.c.id.in_(list(record_ids))]
        if service is not None:
            where.append(r.c.service == service)
        gone = list(conn.execute(delete(r).where(*where).returning(r.c.blob)).scalars())
    blobs = [name for name in gone if name is not None]
    if blobs:  # most records have none: no look at the blob folder
        remove_blobs(stores.blob_dir(region), blobs)
    return len(gone)
