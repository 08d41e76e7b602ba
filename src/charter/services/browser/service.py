"""
:class:`Browser`: Mi Browser's server side.

- **sync** (:meth:`Browser.put_sync`, :meth:`Browser.get_sync`): bookmarks, history, tabs
  and settings, each one cloud item of the ``browser`` category (the cloud's authorization,
  per-category switch and market rule apply: history syncs only where the catalog allows);
- **clearing history** (:meth:`Browser.clear_history`): once the person confirms, the cloud
  copy goes and every other device of theirs gets a ``clear_browser_history`` command;
- **feed** (:meth:`Browser.record_feed`, :meth:`Browser.feed`): personalised topics from the
  feed's own interactions only (:data:`FEED_SOURCES`), never from synced data;
- **analytics** (:attr:`Browser.analytics`): aggregated counters only;
- **suggestions** (:meth:`Browser.suggest`): the proxy of :mod:`.suggest`, keeping nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from charter.errors import NotFoundError, RefusedError
from charter.gate import Event
from charter.services.aggregates import Aggregates
from charter.services.browser.kinds import ANALYTICS_KINDS, check_feed, check_sync
from charter.services.browser.suggest import (
    SearchEngine,
    SimulatedSearchEngine,
    SuggestionRequest,
    suggest,
)
from charter.services.browser.tables import synced
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate
    from charter.services.cloud import Cloud

SERVICE = "browser"
ACTOR = "service:browser"
CLOUD_CATEGORY = "browser"
CLEAR_COMMAND = "clear_browser_history"
FEED_SOURCES: tuple[tuple[str, str], ...] = ((SERVICE, "content_consumption_data"),)
"""The only (service, data type) pairs the feed reads: its own interactions."""

NotifyDevices = Callable[[str, str, str, Iterable[str]], list[str]]
"""``(subject_id, kind, service, exclude)`` → ids of the commands queued to the person's other
devices (the composition root hands in the rights engine's device command queue)."""


@dataclass(frozen=True, slots=True)
class Synced:
    """A synced kind as a device reads it."""

    kind: str
    version: int
    updated_at: int
    entries: Any


@dataclass(frozen=True, slots=True)
class Cleared:
    """What clearing history did."""

    synced: bool
    """Sync was on: the cloud copy went and the other devices were told."""
    commands: list[str]
    """The commands queued, one per other device."""


@dataclass(frozen=True, slots=True)
class Feed:
    """The feed's topics, and whether they are personalised (and why not)."""

    personalized: bool
    topics: list[str]
    reason: str | None


GENERIC_TOPICS = ["top stories", "technology", "sport", "entertainment", "science"]


def _no_devices(_s: str, _k: str, _v: str, _e: Iterable[str]) -> list[str]:
    return []


class Browser:
    """Mi Browser's server side of one deployment."""

    def __init__(
        self,
        gate: Gate,
        *,
        cloud: Cloud,
        notify_devices: NotifyDevices = _no_devices,
        engine: SearchEngine | None = None,
    ) -> None:
        self.gate = gate
        self.cloud = cloud
        self.notify_devices = notify_devices
        self.engine: SearchEngine = engine or SimulatedSearchEngine()
        self.analytics = Aggregates(gate, SERVICE, ANALYTICS_KINDS)

    # -- sync ------------------------------------------------------------------------------

    def _row(self, subject_id: str, kind: str) -> Any:
        with self.gate.stores.control().connect() as conn:
            return conn.execute(
                select(synced).where(synced.c.subject_id == subject_id, synced.c.kind == kind)
            ).first()

    def put_sync(self, subject_id: str, kind: str, entries: Any) -> Synced:
        """
        Store a synced kind (the whole of it, replacing what was there).

        Raises:
            InputError: unknown kind or malformed entries.
            RefusedError: a URL in a kind that may not hold one (``url_refused``), or the
                cloud refused (no authorization, sync of the browser switched off, or browser
                sync not offered in the person's market, with the promise).
        """
        check_sync(kind, entries)
        content = json.dumps({"kind": kind, "entries": entries}, separators=(",", ":")).encode()
        row = self._row(subject_id, kind)
        if row is not None:
            current = self.cloud.item(subject_id, row.item_id)
            if current.state == "live":
                item = self.cloud.upload(
                    subject_id,
                    CLOUD_CATEGORY,
                    content,
                    item_id=row.item_id,
                    base_version=current.version,
                )
                with self.gate.stores.control().begin() as conn:
                    conn.execute(
                        update(synced)
                        .where(synced.c.subject_id == subject_id, synced.c.kind == kind)
                        .values(updated_at=item.updated_at)
                    )
                return Synced(kind, item.version, item.updated_at, entries)
        item = self.cloud.upload(subject_id, CLOUD_CATEGORY, content)
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                delete(synced).where(synced.c.subject_id == subject_id, synced.c.kind == kind)
            )
            conn.execute(
                insert(synced).values(
                    subject_id=subject_id, kind=kind, item_id=item.id, updated_at=item.updated_at
                )
            )
        return Synced(kind, item.version, item.updated_at, entries)

    def get_sync(self, subject_id: str, kind: str) -> Synced:
        """
        A synced kind, for the person's own devices.

        Raises:
            NotFoundError: nothing of this kind is synced.
        """
        row = self._row(subject_id, kind)
        if row is None:
            raise NotFoundError(f"no synced {kind}", field="kind")
        item, content = self.cloud.content(subject_id, row.item_id)
        return Synced(kind, item.version, item.updated_at, json.loads(content)["entries"])

    def sync_on(self, subject_id: str) -> bool:
        """Browser sync is on: the cloud is authorised and its browser category syncs."""
        switches = self.gate.switches(subject_id)
        return bool(switches.get("cloud.authorization")) and self.cloud.sync_settings(
            subject_id
        ).get(CLOUD_CATEGORY, True)

    def clear_history(self, subject_id: str, *, device_id: str, confirm: bool) -> Cleared:
        """
        Clear the person's browsing history everywhere: with sync on, the cloud copy is
        destroyed and each of their other devices gets a ``clear_browser_history`` command.

        Raises:
            RefusedError: ``confirm`` is false (``confirmation_required``): the person must
                confirm, since the other devices are cleared too.
        """
        on = self.sync_on(subject_id) or self._row(subject_id, "history") is not None
        if not confirm:
            raise RefusedError(
                "clearing history also clears it on your other devices signed in with sync "
                "on; ask the person to confirm, then send confirm: true",
                code="confirmation_required",
                field="confirm",
            )
        row = self._row(subject_id, "history")
        if row is not None:
            item = self.cloud.item(subject_id, row.item_id)
            if item.state == "live":
                self.cloud.delete(subject_id, row.item_id)
            with self.gate.stores.control().begin() as conn:
                conn.execute(
                    delete(synced).where(
                        synced.c.subject_id == subject_id, synced.c.kind == "history"
                    )
                )
        commands = (
            self.notify_devices(subject_id, CLEAR_COMMAND, SERVICE, [device_id]) if on else []
        )
        subject = self.gate.subject(subject_id)
        with self.gate.stores.region(subject.region).begin() as conn:
            self.gate.journal.record(
                conn,
                "subject",
                "browser_clear_history",
                subject_id,
                {"service": SERVICE, "synced": on, "devices": len(commands)},
            )
        return Cleared(on, commands)

    # -- feed ------------------------------------------------------------------------------

    def record_feed(self, subject_id: str, interactions: Any) -> int:
        """
        Keep feed interactions (content ids and topics) for the person's personalised feed.

        Raises:
            InputError: malformed.
            RefusedError: a URL (``url_refused``), or the gate refused (its reason).
        """
        items = check_feed(interactions)
        result = self.gate.collect(
            [
                Event(subject_id, SERVICE, "content_consumption_data", Purpose.PERSONALIZATION, i)
                for i in items
            ],
            actor=ACTOR,
        )
        refused = next((i for i in result.items if not i.accepted), None)
        if refused is not None:
            raise RefusedError(refused.message, code=refused.reason)
        return result.accepted

    def feed(self, subject_id: str, *, size: int = 5) -> Feed:
        """The feed's topics: personalised from :data:`FEED_SOURCES` only, when allowed."""
        counts: Counter[str] = Counter()
        for service, data_type in FEED_SOURCES:
            try:
                records = self.gate.read(
                    subject_id,
                    service=service,
                    purpose=Purpose.PERSONALIZATION,
                    data_type=data_type,
                    actor=ACTOR,
                )
            except RefusedError as exc:
                return Feed(False, GENERIC_TOPICS[:size], exc.code)
            counts.update(str(r.value.get("topic")) for r in records if isinstance(r.value, dict))
        if not counts:
            return Feed(False, GENERIC_TOPICS[:size], "no_interactions")
        return Feed(True, [t for t, _n in counts.most_common(size)], None)

    # -- suggestions -----------------------------------------------------------------------

    def suggest(self, request: SuggestionRequest) -> list[str]:
        """Search suggestions through the proxy (see :mod:`.suggest`); keeps nothing."""
        return suggest(self.engine, request)
