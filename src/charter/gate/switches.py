"""
:class:`Switches`: consent and privacy switches with their history. A change is durable
before anyone hears "done" (concurrent changes of a region share one group commit), and
withdrawing a service's authorization stops its collection at once and, where the catalog
says so, deletes its server data in the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future

from sqlalchemy import Connection, bindparam, select

from charter.catalog import Catalog
from charter.clock import Clock
from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate.journal import AuditEntry, Journal
from charter.gate.model import ACTIVE, SwitchChange
from charter.gate.records import remove_records
from charter.gate.subjects import SubjectDirectory
from charter.policy import CompiledCatalog, Reason
from charter.store import schema as t
from charter.store.driver_sql import execute, in_paramstyle
from charter.store.groupcommit import Batched, GroupCommit
from charter.store.regions import RegionStores

_LOAD = select(t.switches.c.subject_id, t.switches.c.key, t.switches.c.value).where(
    t.switches.c.subject_id.in_(bindparam("ids", expanding=True))
)


class _Statements:
    """
    The fixed statements of a switch change, as SQL text in one dialect's parameter style:
    sent to the driver (:func:`charter.store.driver_sql.execute`), so no statement is
    compiled, no cache key computed, no execution context built and
    no parameter processed per change (every value is already the bool, int or str its
    column stores). The history row takes the subject's next id in its own ``INSERT`` (no
    ``SELECT`` of the largest id first).
    """

    def __init__(self, paramstyle: str) -> None:
        # The subject's status is read inside the change's transaction: a subject reset or
        # erased (by this process or another) is refused by the change itself. (Its own
        # statement: hot paths join no two distributed tables, tests/test_router_queries.py.)
        def sql(text: str) -> str:
            return in_paramstyle(text, paramstyle)

        self.status = sql("SELECT status FROM subjects WHERE id = ?")
        self.load = sql("SELECT key, value FROM switches WHERE subject_id = ?")
        self.update = sql(
            "UPDATE switches SET value = ?, changed_at = ?, source = ? "
            "WHERE subject_id = ? AND key = ?"
        )
        self.insert = sql(
            "INSERT INTO switches (subject_id, key, value, changed_at, source) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        self.history = sql(
            "INSERT INTO switch_history (subject_id, id, key, value, changed_at, source, actor) "
            "VALUES (?, (SELECT COALESCE(MAX(id), 0) + 1 FROM switch_history WHERE subject_id = ?), "
            "?, ?, ?, ?, ?)"
        )


_STATEMENTS = {style: _Statements(style) for style in ("qmark", "format", "pyformat")}


class Switches:
    """Read and change subjects' switches."""

    def __init__(
        self,
        catalog: Catalog,
        compiled: CompiledCatalog,
        stores: RegionStores,
        clock: Clock,
        journal: Journal,
        subjects: SubjectDirectory,
    ) -> None:
        self.catalog = catalog
        self.compiled = compiled
        self.stores = stores
        self.clock = clock
        self.journal = journal
        self.subjects = subjects
        self._groups: dict[str, GroupCommit] = {}
        self._groups_lock = threading.Lock()

    def current(self, subject_id: str) -> dict[str, bool]:
        """Every switch of a subject as it acts: its own settings over the catalog defaults,
        with a service's secondary switches off while its authorization is off."""
        subject = self.subjects.subject(subject_id)
        with self.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            own = self.load(conn, [subject_id]).get(subject_id, {})
        return effective({**self.compiled.defaults, **own})

    def history(self, subject_id: str) -> list[SwitchChange]:
        """Every switch change of a subject, oldest first."""
        subject = self.subjects.subject(subject_id)
        h = t.switch_history
        with self.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(h).where(h.c.subject_id == subject_id).order_by(h.c.id)
            ).all()
        return [SwitchChange(r.key, r.value, r.changed_at, r.source, r.actor) for r in rows]

    def set(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool = False,
    ) -> dict[str, bool]:
        """
        Change switches, durably and with history. Withdrawing a service's authorization
        stops its collection at once and, where the catalog says so, deletes its server data.

        Args:
            skip_unchanged: leave switches already at the requested value alone (no history).

        Returns:
            Every switch of the subject after the change.

        Raises:
            InputError: an unknown switch key.
        """
        return self.change(
            subject_id, changes, source=source, actor=actor, skip_unchanged=skip_unchanged
        )[0]

    def submit(
        self, subject_id: str, changes: Mapping[str, bool], *, source: str, actor: str
    ) -> Future[tuple[dict[str, bool], int]]:
        """
        :meth:`set` without waiting for the commit: checks the keys and the subject now,
        then queues the change for the region's next group commit. Once the change is
        durable the future holds every switch after it and how many changed (or the error).

        Raises:
            InputError: an unknown switch key.
            NotFoundError: no such subject (the future holds it when the subject was erased
                since this process last saw it).

        The future holds :class:`RefusedError` (``subject_inactive``) when the subject was
        reset or erased: its status is read inside the change's own transaction.
        """
        return self._submit(subject_id, changes, source=source, actor=actor, skip_unchanged=False)

    def change(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool,
    ) -> tuple[dict[str, bool], int]:
        return self._submit(
            subject_id, changes, source=source, actor=actor, skip_unchanged=skip_unchanged
        ).result()

    def _submit(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool,
    ) -> Future[tuple[dict[str, bool], int]]:
        for key in changes:
            if key not in self.compiled.defaults:
                raise InputError(
                    "unknown switch key; GET /v1/subjects/{id}/switches lists the valid ones",
                    field="key",
                )
        subject = self.subjects.locate(subject_id)  # its region (cached; never changes)

        defaults = self.compiled.defaults
        journal = self.journal

        def work(conn: Connection) -> Batched[tuple[dict[str, bool], int]]:
            sql = _STATEMENTS[conn.dialect.paramstyle]
            now = self.clock()
            current = self._current_of_active(conn, subject_id, sql)
            entries: list[AuditEntry] = []
            for key, value in changes.items():
                before = current.get(key, defaults[key])
                if skip_unchanged and before == value:
                    continue
                if key in current:
                    execute(conn, sql.update, (value, now, source, subject_id, key))
                else:
                    execute(conn, sql.insert, (subject_id, key, value, now, source))
                execute(conn, sql.history, (subject_id, subject_id, key, value, now, source, actor))
                deleted = 0
                if before and not value and key.endswith(".authorization"):
                    deleted = self._on_withdrawal(
                        conn, subject.region, subject_id, key.removesuffix(".authorization")
                    )
                # appended with the batch's other entries just before its commit (alone, in
                # this change's savepoint, should the batch be retried unit by unit)
                entries.append(
                    journal.entry(
                        actor,
                        "switch",
                        subject_id,
                        {"key": key, "value": value, "source": source, "deleted_records": deleted},
                        at=now,
                    )
                )
                current[key] = value
            return Batched((effective({**defaults, **current}), len(entries)), entries)

        # Concurrent switch changes of a region share one durable commit (each in its own
        # savepoint): no caller hears "done" before its change is on disk.
        return self._group(subject.region).submit(work)

    def _group(self, region: str) -> GroupCommit:
        with self._groups_lock:
            group = self._groups.get(region)
            if group is None:
                group = self._groups[region] = GroupCommit(
                    lambda: self.stores.region(region), finish=self.journal.record_many
                )
            return group

    def apply_gpc(self, subject_id: str, *, actor: str) -> bool:
        """
        Honour a Global Privacy Control signal: opt the subject out of personalized ads.

        The check and the change happen in one transaction, so concurrent signals record one
        change.

        Returns:
            True when this changed a switch (recorded with source ``gpc``).
        """
        key = "system.personalized_ads"
        if key not in self.compiled.defaults:
            return False
        _, changed = self.change(
            subject_id, {key: False}, source="gpc", actor=actor, skip_unchanged=True
        )
        return changed > 0

    def _current_of_active(
        self, conn: Connection, subject_id: str, sql: _Statements
    ) -> dict[str, bool]:
        """The switches an active subject has set, read in the change's transaction.

        Raises:
            NotFoundError: the subject is gone (erased, perhaps by another process).
            RefusedError: the subject was reset or is being erased (``subject_inactive``).
        """
        found = execute(conn, sql.status, (subject_id,)).first()
        status = None if found is None else found[0]
        if status is None:
            self.subjects.forget(subject_id)
            raise NotFoundError("no such subject", field="subject_id")
        if status != ACTIVE:
            raise RefusedError(
                "the subject is no longer active (reset or erased)",
                code=Reason.SUBJECT_INACTIVE.value,
                field="subject_id",
            )
        return {key: bool(value) for key, value in execute(conn, sql.load, (subject_id,)).all()}

    def _on_withdrawal(
        self, conn: Connection, region: str, subject_id: str, service_id: str
    ) -> int:
        service = self.catalog.services.get(service_id)
        consent = service.controls.consent if service else None
        if consent is None or "delete_server_data" not in {e.value for e in consent.on_withdrawal}:
            return 0
        return remove_records(conn, self.stores, region, subject_id, service=service_id)

    @staticmethod
    def load(conn: Connection, subject_ids: Sequence[str]) -> dict[str, dict[str, bool]]:
        """The switches each of ``subject_ids`` has set (unset ones are absent)."""
        out: dict[str, dict[str, bool]] = {}
        for row in conn.execute(_LOAD, {"ids": list(subject_ids)}):
            out.setdefault(row.subject_id, {})[row.key] = bool(row.value)
        return out


AUTHORIZATION = "authorization"


def effective(values: Mapping[str, bool]) -> dict[str, bool]:
    """
    Switch values as they act and read: a service's secondary switches (personalization,
    ads, ...) are off while its authorization is off (never authorized, or withdrawn),
    whatever was set before; system switches and the authorization itself are as set.
    """
    out = dict(values)
    for key in values:
        service, _, kind = key.partition(".")
        unauthorized = values.get(f"{service}.{AUTHORIZATION}") is False
        if service != "system" and kind != AUTHORIZATION and unauthorized:
            out[key] = False
    return out
