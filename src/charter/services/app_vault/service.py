"""
:class:`AppVault`: cards rendered for display, and the News card's feed.

News personalization (promise ``app_vault.news_personalization_scope``): the feed's
interactions are gate records of ``product_interaction`` for personalization with the source
``news_feed``; :meth:`AppVault.interact` takes nothing from any other card, and
:meth:`AppVault.news` hands the partner only those records, only while the person's
authorization and ``app_vault.personalization`` switch are on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import Event
from charter.services.aggregates import Aggregates
from charter.services.app_vault.cards import Card, render_cards
from charter.services.app_vault.news import NewsItem, Partner, partner_for, partners
from charter.services.offering import require_service
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

SERVICE = "app_vault"
ACTOR = "service:app_vault"
NEWS_SOURCE = "news_feed"
PERSONALIZATION = "app_vault.personalization"
AUTHORIZATION = "app_vault.authorization"
ANALYTICS_KINDS = ("product_interaction", "crash_data", "performance_data")
ACTIONS = ("open", "like", "hide")


@dataclass(frozen=True, slots=True)
class Feed:
    """The News card as a person sees it."""

    partner: str
    personalized: bool
    items: tuple[NewsItem, ...]


class AppVault:
    """The App Vault of a deployment."""

    def __init__(self, gate: Gate, *, news_partners: Mapping[str, Partner] | None = None) -> None:
        self.gate = gate
        self.compiled = gate.compiled
        self.partners = dict(news_partners or partners())
        self.analytics = Aggregates(gate, SERVICE, ANALYTICS_KINDS, decide="uxp", release_floor=1)

    def render(self, cards: Sequence[Mapping[str, Any]], market: str) -> list[Card]:
        """Lay out display-only cards (nothing is kept; see :mod:`.cards`)."""
        require_service(self.compiled, SERVICE, market)
        return render_cards(cards)

    def personalized(self, subject_id: str) -> bool:
        """Whether the person's switches let the partner tailor their feed."""
        switches = self.gate.switches(subject_id)
        return bool(switches.get(AUTHORIZATION)) and bool(switches.get(PERSONALIZATION))

    def interact(self, subject_id: str, *, card: str, item_id: str, action: str) -> None:
        """
        Keep one interaction with a story of the News card, for the person's feed.

        Raises:
            RefusedError: ``not_news_feed`` for any other card (its usage is never used for
                suggestions); ``personalization_off`` (or the gate's reason) while the
                person's switches do not allow it.
            NotFoundError: no such story in the person's feed.
            InputError: unknown action.
        """
        if card != "news":
            raise RefusedError(
                "only interaction with the News card's own stories is taken; usage of other "
                "cards is never used for suggestions",
                code="not_news_feed",
                field="card",
            )
        if action not in ACTIONS:
            raise InputError(f"action is one of: {', '.join(ACTIONS)}", field="action")
        subject = self.gate.subject(subject_id)
        require_service(self.compiled, SERVICE, subject.market)
        if self.partners[partner_for(subject.market)].item(item_id) is None:
            raise NotFoundError("no such story in this feed", field="item_id")
        found = self.gate.collect(
            [
                Event(
                    subject_id,
                    SERVICE,
                    "product_interaction",
                    Purpose.PERSONALIZATION,
                    {"item": item_id, "action": action},
                    source=NEWS_SOURCE,
                )
            ],
            actor=ACTOR,
        ).items[0]
        if not found.accepted:
            raise RefusedError(found.message, code=found.reason)

    def feed_interactions(self, subject_id: str) -> list[str]:
        """The story ids of the person's feed interactions (gate records of the feed only)."""
        records = self.gate.read(
            subject_id,
            service=SERVICE,
            purpose=Purpose.PERSONALIZATION,
            data_type="product_interaction",
            actor=ACTOR,
        )
        out = []
        for rec in records:
            value = rec.value if isinstance(rec.value, dict) else {}
            if rec.source == NEWS_SOURCE and isinstance(value.get("item"), str):
                out.append(value["item"])
        return out

    def news(self, market: str, subject_id: str | None = None) -> Feed:
        """The News card's feed: tailored by the partner only with the person's switch on."""
        if subject_id is not None:
            market = self.gate.subject(subject_id).market
        require_service(self.compiled, SERVICE, market)
        partner = self.partners[partner_for(market)]
        if subject_id is None or not self.personalized(subject_id):
            return Feed(partner.name, False, tuple(partner.feed(None)))
        return Feed(partner.name, True, tuple(partner.feed(self.feed_interactions(subject_id))))
