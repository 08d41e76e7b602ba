"""
The News card's content partners (simulated in process): a feed per partner, and the
tailoring a partner does when, and only when, it is handed the person's feed interactions.
Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One story of a feed."""

    id: str
    topic: str
    headline: str


TOPICS = ("sport", "science", "business", "culture", "weather")


def _feed(prefix: str) -> tuple[NewsItem, ...]:
    return tuple(
        NewsItem(f"{prefix}_{topic}_{n}", topic, f"{topic.title()} story {n}")
        for n in range(1, 3)
        for topic in TOPICS
    )


@dataclass
class Partner:
    """A content partner: its feed, and what it was handed to tailor it (for the record)."""

    id: str
    name: str
    items: tuple[NewsItem, ...]
    received: deque[tuple[str, ...]] = field(default_factory=lambda: deque(maxlen=64))
    """The latest batches of interactions it was handed (item ids only)."""

    def feed(self, interactions: Sequence[str] | None) -> list[NewsItem]:
        """The feed; tailored by the topics of the items interacted with when given them."""
        if interactions is None:
            return list(self.items)
        self.received.append(tuple(interactions))
        topics = {i.id: i.topic for i in self.items}
        weights = Counter(topics[i] for i in interactions if i in topics)
        return sorted(self.items, key=lambda i: (-weights[i.topic], i.id))

    def item(self, item_id: str) -> NewsItem | None:
        """One story of the feed."""
        return next((i for i in self.items if i.id == item_id), None)


def partners() -> dict[str, Partner]:
    """The catalog's two news partners."""
    return {
        "mail_ru": Partner("mail_ru", "Mail.ru", _feed("mr")),
        "msn_com": Partner("msn_com", "MSN.com", _feed("msn")),
    }


def partner_for(market: str) -> str:
    """Mail.ru supplies Russia; MSN.com everywhere else."""
    return "mail_ru" if market == "ru" else "msn_com"
