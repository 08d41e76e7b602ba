"""
Sync: upload, list changes since a change token, download, delete to the trash, restore,
empty the trash, and destroy what the trash window let go.

- **Change tokens**: every change of an account takes the next number of the account's
  counter (``cloud_accounts.seq``) and stores it on the item; "changes since N" is an index
  range scan on ``(subject_id, seq)``, so its cost follows the number of changes, not the
  account's size. Deletions stay visible as changes (a tombstone: state ``gone``).
- **Versions**: an update names the version it was based on; if the item moved on meanwhile
  (another device), nothing is stored and :class:`ConflictError` carries both versions.
- **Content** goes through the gate as a record of service ``cloud`` (the category's data
  type, purpose ``app_functionality``): no authorization, no sync. A replaced version's
  record is deleted through the gate.
- **Trash**: deleting an item of a trash category keeps it for the plan's window
  (:mod:`.plans`); restoring brings it back with its version history; the window's end, or
  emptying the trash, destroys it (the gate record and its blob go).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import Event, StagedBlob
from charter.services.cloud.categories import Category, category
from charter.services.cloud.checks import (
    account_usage,
    check_fits,
    check_sync_on,
    ensure_account,
    take_change,
)
from charter.services.cloud.model import Change, ConflictError, Item, item_of
from charter.services.cloud.plans import PLANS, Plan
from charter.services.cloud.tables import accounts, items
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

SERVICE = "cloud"
ACTOR = "service:cloud"
PURPOSE = Purpose.APP_FUNCTIONALITY
MICROS = 1_000_000
DAY = 86_400 * MICROS
MAX_CHANGES = 1000
_NEW_ITEM = insert(items)  # a new item's row (built once: every upload writes one)
LIVE, TRASHED, GONE = "live", "trashed", "gone"


class CloudSync:
    """The sync service of one deployment."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.clock = gate.clock

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    # -- reading ---------------------------------------------------------------------------

    def item(self, subject_id: str, item_id: str) -> Item:
        """
        An item (any state).

        Raises:
            NotFoundError: no such item of this person.
        """
        with self.control.connect() as conn:
            row = conn.execute(
                select(items).where(items.c.subject_id == subject_id, items.c.id == item_id)
            ).first()
        if row is None:
            raise NotFoundError("no such cloud item", field="item_id")
        return item_of(row)

    def content(self, subject_id: str, item_id: str) -> tuple[Item, bytes]:
        """
        An item and its content, read through the gate.

        Raises:
            NotFoundError: no such item, or it was destroyed.
            RefusedError: the gate refused the read (e.g. the authorization was withdrawn).
        """
        with self.control.connect() as conn:
            row = conn.execute(
                select(items).where(items.c.subject_id == subject_id, items.c.id == item_id)
            ).first()
        if row is None or row.record_id is None:
            raise NotFoundError("no such cloud item", field="item_id")
        data = self.gate.read_blob(
            subject_id, row.record_id, service=SERVICE, purpose=PURPOSE, actor=ACTOR
        )
        return item_of(row), data

    def changes(
        self, subject_id: str, since: int = 0, limit: int = MAX_CHANGES
    ) -> tuple[list[Change], int, bool]:
        """The changes after change number ``since``, oldest first: the changes, the token to
        ask from next time, and whether more are waiting."""
        if since < 0:
            raise InputError("a change token is 0 or a number this service gave", field="since")
        limit = max(1, min(limit, MAX_CHANGES))
        with self.control.connect() as conn:
            rows = conn.execute(
                select(items)
                .where(items.c.subject_id == subject_id, items.c.seq > since)
                .order_by(items.c.seq)
                .limit(limit + 1)
            ).all()
        found = [item_of(r) for r in rows[:limit]]
        token = found[-1].change if found else max(since, self._counter(subject_id))
        return found, token, len(rows) > limit

    def trash(self, subject_id: str) -> list[Item]:
        """The person's trashed items, soonest destroyed first."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(items)
                .where(items.c.subject_id == subject_id, items.c.state == TRASHED)
                .order_by(items.c.purge_at, items.c.id)
            ).all()
        return [item_of(r) for r in rows]

    def usage(self, subject_id: str) -> tuple[Plan, int]:
        """The person's plan and the bytes they use (see :meth:`usage_in`)."""
        with self.reading() as conn:
            return self.usage_in(conn, subject_id)

    def usage_in(self, conn: Any, subject_id: str) -> tuple[Plan, int]:
        """The person's plan and the bytes they use (live and trashed), read in ``conn``."""
        plan, used = account_usage(conn, subject_id)
        return plan, used + self.shared_in(conn, subject_id)

    def shared_in(self, conn: Any, subject_id: str) -> int:
        """Bytes the person uses besides their items, read in ``conn`` (none here)."""
        return 0

    def reading(self) -> Any:
        """A connection to the control database for reading only (no writer's lock)."""
        return self.control.connect().execution_options(readonly=True)

    def _counter(self, subject_id: str) -> int:
        with self.control.connect() as conn:
            seq = conn.execute(
                select(accounts.c.seq).where(accounts.c.subject_id == subject_id)
            ).scalar()
        return int(seq or 0)

    # -- writing ---------------------------------------------------------------------------

    def stage(self, subject_id: str, category_name: str, size: int) -> StagedBlob:
        """
        Start receiving a large new item's content of ``size`` announced bytes (an upload's
        ``Content-Length``): refused at once when its category is off or it cannot fit the
        plan, otherwise sealed into its file as it arrives; :meth:`upload` it when complete
        (or :meth:`StagedBlob.discard` it).

        Raises:
            InputError: unknown category.
            RefusedError: sync of the category is off, over the plan's quota, or the person
                is no longer active.
        """
        kind = category(category_name)
        with self.reading() as conn:
            self.admit(conn, subject_id, kind.name, size)
        staged = self.gate.stage_blob(subject_id)
        staged.announced = size
        return staged

    def upload(
        self,
        subject_id: str,
        category_name: str,
        content: bytes | StagedBlob,
        *,
        item_id: str | None = None,
        base_version: int | None = None,
    ) -> Item:
        """
        Create an item (``item_id`` None) or replace one's content (with ``base_version``,
        the version the change was made on). ``content`` may be one :meth:`stage` received:
        it is closed, and removed when it is not stored.

        Raises:
            InputError: unknown category, or an update without ``base_version``.
            NotFoundError: no such live item.
            ConflictError: the item moved past ``base_version``.
            RefusedError: over the plan's quota, or refused by the gate (no authorization).
        """
        if isinstance(content, StagedBlob):
            try:
                return self._upload(subject_id, category_name, content, item_id, base_version)
            finally:
                content.discard()  # no-op once stored: the file has moved to its place
        return self._upload(subject_id, category_name, content, item_id, base_version)

    def _upload(
        self,
        subject_id: str,
        category_name: str,
        content: bytes | StagedBlob,
        item_id: str | None,
        base_version: int | None,
    ) -> Item:
        kind = category(category_name)
        if item_id is not None and base_version is None:
            raise InputError("an update names the version it is based on", field="base_version")
        size = content.close() if isinstance(content, StagedBlob) else len(content)
        previous = self._live(subject_id, item_id) if item_id is not None else None
        if previous is not None and previous.category != kind.name:
            raise InputError("an item keeps its category", field="category")
        if previous is not None and base_version != previous.version:
            raise ConflictError(item_of(previous), base_version or 0)
        growth = size - (previous.size if previous else 0)
        if not (isinstance(content, StagedBlob) and content.announced == growth):
            with self.reading() as conn:  # refused before the gate stores anything
                self.admit(conn, subject_id, kind.name, growth)
        record_id = self.store_content(subject_id, kind, content)
        now = self.clock()
        made: Item | None = None
        try:
            with self.control.begin() as conn:
                seq, plan, used = take_change(conn, subject_id, growth)
                check_sync_on(conn, subject_id, kind.name)  # what changed meanwhile
                check_fits(plan, used + self.shared_in(conn, subject_id), growth)
                if previous is None:
                    new_id = "ci_" + secrets.token_hex(16)
                    made = Item(new_id, kind.name, 1, LIVE, size, seq, now, now, None)
                    conn.execute(
                        _NEW_ITEM,
                        {
                            "subject_id": subject_id,
                            "id": new_id,
                            "category": kind.name,
                            "version": 1,
                            "seq": seq,
                            "record_id": record_id,
                            "size": size,
                            "state": LIVE,
                            "trashed_at": None,
                            "purge_at": None,
                            "created_at": now,
                            "updated_at": now,
                        },
                    )
                    item_id = new_id
                else:
                    moved = conn.execute(
                        update(items)
                        .where(
                            items.c.subject_id == subject_id,
                            items.c.id == previous.id,
                            items.c.version == base_version,
                            items.c.state == LIVE,
                        )
                        .values(
                            version=items.c.version + 1,
                            seq=seq,
                            record_id=record_id,
                            size=size,
                            updated_at=now,
                        )
                    ).rowcount
                    if moved != 1:
                        raise _LostRaceError()
        except _LostRaceError:
            self.forget(subject_id, [record_id], why="lost_conflict")
            raise ConflictError(self.item(subject_id, item_id or ""), base_version or 0) from None
        except BaseException:
            self.forget(subject_id, [record_id], why="upload_failed")
            raise
        if previous is not None:
            self.forget(subject_id, [previous.record_id], why="replaced")
        return made or self.item(subject_id, item_id or "")

    def delete(self, subject_id: str, item_id: str, *, base_version: int | None = None) -> Item:
        """
        Delete an item: to the trash (trash categories) or at once.

        Raises:
            NotFoundError: no such live item.
            ConflictError: ``base_version`` given and the item moved past it.
        """
        row = self._live(subject_id, item_id)
        if base_version is not None and base_version != row.version:
            raise ConflictError(item_of(row), base_version)
        kind = category(row.category)
        if not kind.trash:
            return self._destroy(subject_id, row)
        plan, _ = self.usage(subject_id)
        now = self.clock()
        with self.control.begin() as conn:
            seq = self._next_change(conn, subject_id, 0)
            conn.execute(
                update(items)
                .where(items.c.subject_id == subject_id, items.c.id == item_id)
                .values(
                    state=TRASHED,
                    seq=seq,
                    version=items.c.version + 1,
                    trashed_at=now,
                    purge_at=now + plan.trash_days * DAY,
                    updated_at=now,
                )
            )
        return self.item(subject_id, item_id)

    def restore(self, subject_id: str, item_id: str) -> Item:
        """
        Bring a trashed item back.

        Raises:
            NotFoundError: no such item in the trash.
        """
        now = self.clock()
        with self.control.begin() as conn:
            row = conn.execute(
                select(items).where(
                    items.c.subject_id == subject_id,
                    items.c.id == item_id,
                    items.c.state == TRASHED,
                )
            ).first()
            if row is None:
                raise NotFoundError("no such item in the trash", field="item_id")
            seq = self._next_change(conn, subject_id, 0)
            conn.execute(
                update(items)
                .where(items.c.subject_id == subject_id, items.c.id == item_id)
                .values(
                    state=LIVE,
                    seq=seq,
                    version=items.c.version + 1,
                    trashed_at=None,
                    purge_at=None,
                    updated_at=now,
                )
            )
        return self.item(subject_id, item_id)

    def empty_trash(self, subject_id: str) -> int:
        """Destroy every trashed item of the person now; returns how many."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(items).where(items.c.subject_id == subject_id, items.c.state == TRASHED)
            ).all()
        for row in rows:
            self._destroy(subject_id, row)
        return len(rows)

    def purge_expired(self, *, batch: int = 500) -> int:
        """Destroy trashed items whose window ended (resumable: it works from the data);
        returns how many."""
        total = 0
        while True:
            with self.control.connect() as conn:
                rows = conn.execute(
                    select(items)
                    .where(items.c.state == TRASHED, items.c.purge_at <= self.clock())
                    .order_by(items.c.purge_at)
                    .limit(batch)
                ).all()
            if not rows:
                return total
            for row in rows:
                self._destroy(row.subject_id, row)
                total += 1

    def delete_category(self, subject_id: str, category_name: str, *, why: str) -> int:
        """Destroy every item of a category at once (its sync was switched off and the
        catalog says its cloud copy goes with it); returns how many."""
        kind = category(category_name)
        with self.control.connect() as conn:
            rows = conn.execute(
                select(items).where(
                    items.c.subject_id == subject_id,
                    items.c.category == kind.name,
                    items.c.state != GONE,
                )
            ).all()
        for row in rows:
            self._destroy(subject_id, row, why=why)
        return len(rows)

    def set_plan(self, subject_id: str, plan: str) -> Plan:
        """
        Put a person on a plan (a membership purchase or its end).

        Raises:
            InputError: no such plan.
        """
        if plan not in PLANS:
            raise InputError(f"no plan {plan!r}; use one of: {', '.join(PLANS)}", field="plan")
        with self.control.begin() as conn:
            self.ensure_account(conn, subject_id)
            conn.execute(
                update(accounts).where(accounts.c.subject_id == subject_id).values(plan=plan)
            )
        return PLANS[plan]

    # -- parts -----------------------------------------------------------------------------

    def _live(self, subject_id: str, item_id: str | None) -> Any:
        with self.control.connect() as conn:
            row = conn.execute(
                select(items).where(
                    items.c.subject_id == subject_id,
                    items.c.id == (item_id or ""),
                    items.c.state == LIVE,
                )
            ).first()
        if row is None:
            raise NotFoundError("no such cloud item", field="item_id")
        return row

    def check_sync_on(self, subject_id: str, category_name: str) -> None:
        """
        Raises:
            RefusedError: the person switched this category's sync off.
        """
        with self.reading() as conn:
            check_sync_on(conn, subject_id, category_name)

    def admit(self, conn: Any, subject_id: str, category_name: str, growth: int) -> None:
        """
        Check in ``conn`` that a category's sync is on and ``growth`` more bytes fit.

        Raises:
            RefusedError: sync off, or over the plan's quota (with figures).
        """
        check_sync_on(conn, subject_id, category_name)
        plan, used = self.usage_in(conn, subject_id)
        check_fits(plan, used, growth)

    def protected_categories(self, subject_id: str) -> frozenset[str]:
        """The person's categories under advanced protection (none here; see
        :class:`~charter.services.cloud.service.Cloud`)."""
        return frozenset()

    def check_contents(self, subject_id: str, category_name: str, contents: list[bytes]) -> None:
        """Refuse contents a category may not hold (nothing here; see ``Cloud``)."""

    def check_quota(self, subject_id: str, growth: int) -> None:
        """
        Raises:
            RefusedError: ``growth`` more bytes would not fit the person's plan (with figures).
        """
        plan, used = self.usage(subject_id)
        check_fits(plan, used, growth)

    def store_content(self, subject_id: str, kind: Category, content: bytes | StagedBlob) -> str:
        """Store one content through the gate; returns its record id."""
        self.check_contents(
            subject_id, kind.name, [content.head if isinstance(content, StagedBlob) else content]
        )
        result = self.gate.collect(
            [Event(subject_id, SERVICE, kind.data_type, PURPOSE, blob=content)], actor=ACTOR
        )
        outcome = result.items[0]
        if not outcome.accepted or not outcome.record_id:
            raise RefusedError(outcome.message, code=outcome.reason)
        return outcome.record_id

    def forget(self, subject_id: str, record_ids: list[str | None], *, why: str) -> None:
        """Delete content records through the gate (audited with ``why``)."""
        ids = [r for r in record_ids if r]
        if ids:
            self.gate.delete_records(subject_id, ids, service=SERVICE, actor=ACTOR, why=why)

    def _destroy(self, subject_id: str, row: Any, *, why: str = "deleted") -> Item:
        """Destroy an item as ``row`` found it; an item that changed meanwhile (restored,
        edited) is left alone."""
        now = self.clock()
        try:
            with self.control.begin() as conn:
                seq = self._next_change(conn, subject_id, -int(row.size))
                moved = conn.execute(
                    update(items)
                    .where(
                        items.c.subject_id == subject_id,
                        items.c.id == row.id,
                        items.c.version == row.version,
                    )
                    .values(
                        state=GONE,
                        seq=seq,
                        version=items.c.version + 1,
                        record_id=None,
                        size=0,
                        trashed_at=None,
                        purge_at=None,
                        updated_at=now,
                    )
                ).rowcount
                if moved != 1:
                    raise _LostRaceError()
        except _LostRaceError:
            return self.item(subject_id, row.id)
        self.forget(subject_id, [row.record_id], why=why)
        return self.item(subject_id, row.id)

    def ensure_account(self, conn: Any, subject_id: str) -> None:
        """Create the person's counter row on their first change, in ``conn``."""
        ensure_account(conn, subject_id)

    def _next_change(self, conn: Any, subject_id: str, growth: int) -> int:
        """Take the account's next change number (and count the bytes), in ``conn``."""
        return take_change(conn, subject_id, growth)[0]


class _LostRaceError(Exception):
    """The conditional update found another version (a concurrent change won)."""
