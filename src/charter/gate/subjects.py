"""
:class:`SubjectDirectory`: data subjects (accounts and pseudonymous identifiers), which
region holds each, and whether it is still active.

A bounded cache keeps only what never changes (a subject's kind, market and region) off the
control database; the status is read from the region database on every :meth:`subject`
call, so a reset or erasure made by another process (``charter delete-account`` beside a
running ``charter serve``) is seen at once. The collect path, which re-reads the status
inside its own transaction, uses :meth:`SubjectDirectory.locate` and skips that read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from sqlalchemy import insert, select, update

from charter.catalog import Catalog
from charter.clock import Clock
from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate.journal import Journal
from charter.gate.keys import DataKeys
from charter.gate.model import ACTIVE, Subject, new_id
from charter.policy import Reason, SubjectKind
from charter.store import schema as t
from charter.store.regions import RegionStores


class SubjectDirectory:
    """Create, find, reset and forget subjects."""

    def __init__(
        self,
        catalog: Catalog,
        stores: RegionStores,
        clock: Clock,
        journal: Journal,
        keys: DataKeys,
    ) -> None:
        self.catalog = catalog
        self.stores = stores
        self.clock = clock
        self.journal = journal
        self.keys = keys
        self._directory: OrderedDict[str, Subject] = OrderedDict()
        self._directory_lock = threading.Lock()

    def create_subject(
        self, kind: SubjectKind | str, market: str, *, actor: str = "admin"
    ) -> Subject:
        """
        Create an account or pseudonymous subject in the region of its market.

        Raises:
            InputError: unknown kind or market.
        """
        try:
            kind = SubjectKind(kind)
        except ValueError:
            raise InputError(
                f"unknown subject kind; use one of: {', '.join(k.value for k in SubjectKind)}",
                field="kind",
            ) from None
        market = market.lower()
        if market not in self.catalog.markets:
            raise InputError(
                "unknown market; use an ISO 3166-1 alpha-2 code listed in the catalog's regions.yaml",
                field="market",
            )
        region = self.catalog.markets[market].region
        subject = Subject(new_id("s_"), kind, market, region, ACTIVE)
        now = self.clock()
        with self.stores.control().begin() as conn:
            conn.execute(
                insert(t.subject_directory).values(
                    subject_id=subject.id, region=region, kind=kind.value, created_at=now
                )
            )
        with self.stores.region(region).begin() as conn:
            conn.execute(
                insert(t.subjects).values(
                    id=subject.id,
                    kind=kind.value,
                    market=market,
                    status=ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
            )
            self.journal.record(
                conn, actor, "subject_create", subject.id, {"kind": kind.value, "region": region}
            )
        self.remember(subject)
        return subject

    def subject(self, subject_id: str) -> Subject:
        """
        A subject by id, with its current status (read now, never from a cache).

        Raises:
            NotFoundError: no such subject.
        """
        placed = self.locate(subject_id)
        with self.stores.region(placed.region).connect().execution_options(readonly=True) as conn:
            status = conn.execute(
                select(t.subjects.c.status).where(t.subjects.c.id == subject_id)
            ).scalar_one_or_none()
        if status is None:  # erased (perhaps by another process) since it was cached
            self.forget(subject_id)
            raise NotFoundError("no such subject", field="subject_id")
        return placed if status == placed.status else replace(placed, status=status)

    def locate(self, subject_id: str) -> Subject:
        """
        A subject's kind, market and region (cached: they never change). Its ``status`` is
        as last seen and may be stale: callers that act on it re-read it in their own
        transaction (as collect does) or use :meth:`subject`.

        Raises:
            NotFoundError: no such subject.
        """
        with self._directory_lock:
            cached = self._directory.get(subject_id)
        if cached is not None:
            return cached
        with self.stores.control().connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(t.subject_directory.c.region).where(
                    t.subject_directory.c.subject_id == subject_id
                )
            ).first()
        if row is None:
            raise NotFoundError("no such subject", field="subject_id")
        with self.stores.region(row.region).connect().execution_options(readonly=True) as conn:
            found = conn.execute(select(t.subjects).where(t.subjects.c.id == subject_id)).first()
        if found is None:
            raise NotFoundError("no such subject", field="subject_id")
        subject = Subject(found.id, SubjectKind(found.kind), found.market, row.region, found.status)
        self.remember(subject)
        return subject

    def remember(self, subject: Subject) -> None:
        """Cache a subject's placement (bounded, least recently added first out)."""
        with self._directory_lock:
            self._directory[subject.id] = subject
            while len(self._directory) > 100_000:
                self._directory.popitem(last=False)

    def forget(self, subject_id: str) -> None:
        """Drop a subject from the cache, with its cached data key (after reset or erasure)."""
        with self._directory_lock:
            self._directory.pop(subject_id, None)
        self.keys.forget(subject_id)

    def reset_pseudonym(self, subject_id: str, *, actor: str = "subject") -> Subject:
        """
        Reset an app-instance or advertising identifier: a new subject starts, and the old
        one is no longer reachable from the device (its data ages out under its retention).
        """
        old = self.subject(subject_id)
        if old.kind is SubjectKind.ACCOUNT:
            raise InputError(
                "only pseudonymous identifiers can be reset; accounts are deleted instead",
                field="subject_id",
            )
        fresh = self.create_subject(old.kind, old.market, actor=actor)
        with self.stores.region(old.region).begin() as conn:
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == old.id)
                .values(status="reset", updated_at=self.clock())
            )
            self.journal.record(conn, actor, "subject_reset", old.id, {"kind": old.kind.value})
        self.forget(old.id)
        return fresh

    def active(self, subject_id: str) -> Subject:
        """
        A subject that may still collect and be read.

        Raises:
            NotFoundError: no such subject.
            RefusedError: the subject was reset or erased (``subject_inactive``).
        """
        subject = self.subject(subject_id)
        if subject.status != ACTIVE:
            raise RefusedError(
                "the subject is no longer active (reset or erased)",
                code=Reason.SUBJECT_INACTIVE.value,
                field="subject_id",
            )
        return subject
