"""
:class:`Video`: Mi Video's server side.

- **Local features only** (the default): the phone plays and organises its own files; the
  server takes nothing but analytics (:attr:`Video.analytics`, aggregated counters). Online
  events are refused (``local_features_only``).
- **Local watch history** never leaves the device: an upload of it is refused
  (``on_device_only``) whatever the mode.
- **Online** (the person turned online features on): likes, comments, subscriptions and
  watching are gate records of the Trending and Video function; they may also serve
  personalised trending only in the markets the catalog names (promise
  ``video.personalized_trending_markets``, refused by the gate elsewhere).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from charter.errors import InputError, RefusedError
from charter.gate import Event, Gate
from charter.services.aggregates import Aggregates
from charter.services.video.tables import modes
from charter.taxonomy import Purpose

SERVICE = "video"
ACTOR = "service:video"
ANALYTICS_KINDS = ("product_interaction", "crash_data")
ONLINE_TYPES = ("video_usage_data", "comments", "channel_subscription")
"""What online events may carry (the Trending and Video function's types)."""
PURPOSES = {
    "app_functionality": Purpose.APP_FUNCTIONALITY,
    "personalization": Purpose.PERSONALIZATION,
}
TRENDING = ["music", "comedy", "news", "sport", "gaming", "cooking", "travel", "science"]


@dataclass(frozen=True, slots=True)
class Trending:
    """The trending list, and whether it is personalised (and why not)."""

    personalized: bool
    topics: list[str]
    reason: str | None


class Video:
    """Mi Video's server side of one deployment."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.analytics = Aggregates(gate, SERVICE, ANALYTICS_KINDS)

    def online(self, subject_id: str) -> bool:
        """The person uses online features (local only unless they turned them on)."""
        with self.gate.stores.control().connect() as conn:
            found = conn.execute(
                select(modes.c.online).where(modes.c.subject_id == subject_id)
            ).scalar()
        return bool(found)

    def set_online(self, subject_id: str, on: bool) -> bool:
        """Turn online features on or off for the person."""
        self.gate.subject(subject_id)
        now = self.gate.clock()
        with self.gate.stores.control().begin() as conn:
            moved = conn.execute(
                update(modes)
                .where(modes.c.subject_id == subject_id)
                .values(online=on, changed_at=now)
            ).rowcount
            if not moved:
                conn.execute(insert(modes).values(subject_id=subject_id, online=on, changed_at=now))
        return on

    def upload_watch_history(self, subject_id: str) -> None:
        """
        Raises:
            RefusedError: always (``on_device_only``): the history of local videos stays on
                the device.
        """
        raise RefusedError(
            "the viewing history of local videos is kept on the device only; the server takes "
            "none of it (promise video.local_history_on_device)",
            code="on_device_only",
            field="history",
        )

    def record(self, subject_id: str, events: list[dict[str, Any]]) -> int:
        """
        Keep online events (``{type, purpose, value}``) through the gate.

        Raises:
            InputError: malformed events.
            RefusedError: local features only (``local_features_only``), or the gate refused
                one (its reason: e.g. personalisation outside the catalog's markets).
        """
        if not 1 <= len(events) <= 500:
            raise InputError("send 1 to 500 events", field="events")
        offered = []
        for i, e in enumerate(events):
            if e.get("type") not in ONLINE_TYPES:
                raise InputError(
                    f"events[{i}].type: one of {', '.join(ONLINE_TYPES)}", field="type"
                )
            purpose = PURPOSES.get(str(e.get("purpose")))
            if purpose is None:
                raise InputError(
                    f"events[{i}].purpose: one of {', '.join(PURPOSES)}", field="purpose"
                )
            offered.append(Event(subject_id, SERVICE, str(e["type"]), purpose, e.get("value")))
        if not self.online(subject_id):
            raise RefusedError(
                "only local features are in use: nothing but analytics is collected; turn "
                "online features on first (promise video.local_use_analytics_only)",
                code="local_features_only",
            )
        result = self.gate.collect(offered, actor=ACTOR)
        refused = next((i for i in result.items if not i.accepted), None)
        if refused is not None:
            raise RefusedError(
                refused.message, code=refused.reason, field=f"events[{refused.index}]"
            )
        return result.accepted

    def add_analytics(self, subject_id: str, reports: Any) -> int:
        """Analytics, in any mode (aggregated counters; see :class:`Aggregates`)."""
        return self.analytics.add(subject_id, reports)

    def trending(self, subject_id: str, *, size: int = 5) -> Trending:
        """Trending videos: personalised from the person's online records where the catalog
        allows it (and the person's switch is on), else the same list for everyone."""
        try:
            records = self.gate.read(
                subject_id, service=SERVICE, purpose=Purpose.PERSONALIZATION, actor=ACTOR
            )
        except RefusedError as exc:
            return Trending(False, TRENDING[:size], exc.code)
        subject = self.gate.subject(subject_id)
        allowed = self.personalized_markets()
        if subject.market not in allowed:
            return Trending(False, TRENDING[:size], "market_unavailable")
        topics: Counter[str] = Counter(
            str(r.value.get("topic"))
            for r in records
            if isinstance(r.value, dict) and r.value.get("topic")
        )
        if not topics:
            return Trending(False, TRENDING[:size], "no_history")
        return Trending(True, [t for t, _n in topics.most_common(size)], None)

    def personalized_markets(self) -> frozenset[str]:
        """The markets the catalog's ``personalized_trending_markets`` rule names."""
        for rule in self.gate.catalog.services[SERVICE].rules:
            if rule.id == "personalized_trending_markets" and rule.gate and rule.gate.markets:
                only = rule.gate.markets.only
                return frozenset(only) if isinstance(only, tuple) else frozenset()
        return frozenset()
