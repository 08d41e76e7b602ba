"""
:class:`Switches`: consent and privacy switches with their history. A change is durable
before anyone hears "done" (concurrent changes of a region share one group commit), and
withdrawing a service's authorization stops its collection at once and, where the catalog
says so, deletes its server data in the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, insert, select, update

from charter.catalog import Catalog
from charter.clock import Clock
from charter.errors import InputError
from charter.gate.journal import Journal
from charter.gate.model import SwitchChange
from charter.gate.records import remove_records
from charter.gate.subjects import SubjectDirectory
from charter.policy import CompiledCatalog
from charter.store import schema as t
from charter.store.groupcommit import GroupCommit
from charter.store.regions import RegionStores


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

    def change(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool,
    ) -> tuple[dict[str, bool], int]:
        for key in changes:
            if key not in self.compiled.defaults:
                raise InputError(
                    "unknown switch key; GET /v1/subjects/{id}/switches lists the valid ones",
                    field="key",
                )
        subject = self.subjects.active(subject_id)

        def work(conn: Connection) -> tuple[dict[str, bool], int]:
            now = self.clock()
            changed = 0
            current = self.load(conn, [subject_id]).get(subject_id, {})
            for key, value in changes.items():
                before = current.get(key, self.compiled.defaults[key])
                if skip_unchanged and before == value:
                    continue
                changed += 1
                if key in current:
                    conn.execute(
                        update(t.switches)
                        .where(t.switches.c.subject_id == subject_id, t.switches.c.key == key)
                        .values(value=value, changed_at=now, source=source)
                    )
                else:
                    conn.execute(
                        insert(t.switches).values(
                            subject_id=subject_id,
                            key=key,
                            value=value,
                            changed_at=now,
                            source=source,
                        )
                    )
                conn.execute(
                    insert(t.switch_history).values(
                        subject_id=subject_id,
                        key=key,
                        value=value,
                        changed_at=now,
                        source=source,
                        actor=actor,
                    )
                )
                deleted = 0
                if before and not value and key.endswith(".authorization"):
                    deleted = self._on_withdrawal(
                        conn, subject_id, key.removesuffix(".authorization")
                    )
                self.journal.record(
                    conn,
                    actor,
                    "switch",
                    subject_id,
                    {"key": key, "value": value, "source": source, "deleted_records": deleted},
                )
                current[key] = value
            return current, changed

        # Concurrent switch changes of a region share one durable commit (each in its own
        # savepoint): no caller hears "done" before its change is on disk.
        current, changed = self._group(subject.region).run(work)
        return effective({**self.compiled.defaults, **current}), changed

    def _group(self, region: str) -> GroupCommit:
        with self._groups_lock:
            group = self._groups.get(region)
            if group is None:
                group = self._groups[region] = GroupCommit(lambda: self.stores.region(region))
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

    def _on_withdrawal(self, conn: Connection, subject_id: str, service_id: str) -> int:
        service = self.catalog.services.get(service_id)
        consent = service.controls.consent if service else None
        if consent is None or "delete_server_data" not in {e.value for e in consent.on_withdrawal}:
            return 0
        region = self.subjects.subject(subject_id).region
        return remove_records(conn, self.stores, region, subject_id, service=service_id)

    @staticmethod
    def load(conn: Connection, subject_ids: Sequence[str]) -> dict[str, dict[str, bool]]:
        """The switches each of ``subject_ids`` has set (unset ones are absent)."""
        out: dict[str, dict[str, bool]] = {}
        s = t.switches
        for row in conn.execute(
            select(s.c.subject_id, s.c.key, s.c.value).where(s.c.subject_id.in_(list(subject_ids)))
        ):
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
