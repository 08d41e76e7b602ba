"""
Many new items of one category at once: one gate batch for the contents, one transaction
for the items and their change numbers (a device's first sync of its contacts, say).
"""

from __future__ import annotations

import secrets

from sqlalchemy import insert, update

from charter.errors import InputError, RefusedError
from charter.gate import Event
from charter.services.cloud.categories import category
from charter.services.cloud.model import Item
from charter.services.cloud.sync import ACTOR, LIVE, PURPOSE, SERVICE, CloudSync
from charter.services.cloud.tables import accounts, items

MAX_BATCH = 1000


def upload_many(
    sync: CloudSync, subject_id: str, category_name: str, contents: list[bytes]
) -> list[Item]:
    """
    Create many items of one category at once (one gate batch, one transaction): a
    device's first sync of its contacts, say. All or nothing.

    Raises:
        InputError: unknown category, or more than :data:`MAX_BATCH` items.
        RefusedError: over the quota, or the gate refused one (nothing is kept).
    """
    kind = category(category_name)
    sync.check_sync_on(subject_id, kind.name)
    if not 1 <= len(contents) <= MAX_BATCH:
        raise InputError(f"a batch holds 1 to {MAX_BATCH} items", field="items")
    sync.check_quota(subject_id, sum(len(c) for c in contents))
    sync.check_contents(subject_id, kind.name, contents)
    result = sync.gate.collect(
        [Event(subject_id, SERVICE, kind.data_type, PURPOSE, blob=c) for c in contents],
        actor=ACTOR,
    )
    record_ids = [i.record_id for i in result.items if i.accepted and i.record_id]
    if len(record_ids) != len(contents):
        sync.forget(subject_id, list(record_ids), why="batch_refused")
        refused = next(i for i in result.items if not i.accepted)
        raise RefusedError(refused.message, code=refused.reason)
    now = sync.clock()
    ids = ["ci_" + secrets.token_hex(16) for _ in contents]
    try:
        with sync.control.begin() as conn:
            sync.ensure_account(conn, subject_id)
            last = conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == subject_id)
                .values(
                    seq=accounts.c.seq + len(contents),
                    used_bytes=accounts.c.used_bytes + sum(len(c) for c in contents),
                )
                .returning(accounts.c.seq)
            ).scalar_one()
            first = int(last) - len(contents) + 1
            made = [
                Item(item_id, kind.name, 1, LIVE, len(content), first + n, now, now, None)
                for n, (item_id, content) in enumerate(zip(ids, contents, strict=True))
            ]
            conn.execute(
                insert(items),
                [
                    {
                        "subject_id": subject_id,
                        "id": item.id,
                        "category": item.category,
                        "version": item.version,
                        "seq": item.change,
                        "record_id": record_id,
                        "size": item.size,
                        "state": item.state,
                        "trashed_at": None,
                        "purge_at": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item, record_id in zip(made, record_ids, strict=True)
                ],
            )
    except BaseException:
        sync.forget(subject_id, list(record_ids), why="upload_failed")
        raise
    return made  # as inserted: new ids, version 1, consecutive change numbers
