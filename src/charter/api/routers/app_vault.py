"""
App Vault (``/v1/vault``): cards rendered from display-only data the device sends (never
stored, ``Cache-Control: no-store``), the News card's feed (tailored by the content partner
only with the person's switch on), feed interactions, and aggregate-only analytics.
See ``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from charter.api.content_deps import (
    OPTIONAL_AUTH,
    MarketQuery,
    MaybePrincipal,
    market_for,
    person,
    require_person,
)
from charter.api.deps import CharterDep, ServicePrincipal
from charter.api.errors import responses
from charter.services.aggregates import Report

router = APIRouter(prefix="/v1/vault", tags=["app_vault"])


class CardIn(BaseModel):
    """One card's display data, as the device has it (kept only for this answer)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["shortcuts", "note", "steps", "calendar"]
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="shortcuts: {apps: [...]}, note: {lines: [...]}, steps: {steps, goal}, "
        "calendar: {events: [{at, title}]}.",
    )


class CardsIn(BaseModel):
    """The cards to lay out."""

    model_config = ConfigDict(extra="forbid")

    cards: list[CardIn] = Field(max_length=12)


class CardOut(BaseModel):
    """A card laid out for display."""

    kind: str
    title: str
    lines: list[str]


class NewsItemOut(BaseModel):
    """One story."""

    id: str
    topic: str
    headline: str


class FeedOut(BaseModel):
    """The News card."""

    partner: str
    personalized: bool
    items: list[NewsItemOut]


class InteractionIn(BaseModel):
    """An interaction with a card's content; only the News card's stories are taken."""

    model_config = ConfigDict(extra="forbid")

    card: str = Field(pattern=r"^[a-z_]{1,20}$")
    item_id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    action: Literal["open", "like", "hide"]


class AnalyticsIn(BaseModel):
    """One click or page view of a module (counted, never kept per person)."""

    model_config = ConfigDict(extra="forbid")

    module: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    event: str = Field(pattern=r"^(click|page_view|crash)$")


class CountOut(BaseModel):
    """One aggregate counter."""

    module: str
    event: str
    day: int
    count: int


class CountedOut(BaseModel):
    """Whether a report was counted."""

    counted: bool


@router.post("/cards/render", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 422))
def render(
    request: Request,
    body: CardsIn,
    response: Response,
    charter: CharterDep,
    principal: MaybePrincipal,
    market: MarketQuery = None,
) -> list[CardOut]:
    """Lay out shortcuts, note, steps and calendar cards; nothing sent here is kept."""
    where = market_for(request, principal, market)
    cards = charter.app_vault.render([c.model_dump() for c in body.cards], where)
    response.headers["Cache-Control"] = "no-store"
    return [CardOut(kind=c.kind, title=c.title, lines=list(c.lines)) for c in cards]


@router.get("/news", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 422))
def news(
    request: Request, charter: CharterDep, principal: MaybePrincipal, market: MarketQuery = None
) -> FeedOut:
    """The News card's feed (tailored only with the person's switch on)."""
    where = market_for(request, principal, market)
    feed = charter.app_vault.news(where, person(principal))
    return FeedOut(
        partner=feed.partner,
        personalized=feed.personalized,
        items=[NewsItemOut(id=i.id, topic=i.topic, headline=i.headline) for i in feed.items],
    )


@router.post("/news/interactions", status_code=204, responses=responses(401, 403, 404, 422))
def interact(body: InteractionIn, charter: CharterDep, principal: MaybePrincipal) -> None:
    """Keep one interaction with a News story (refused for other cards, or with the switch off)."""
    charter.app_vault.interact(
        require_person(principal), card=body.card, item_id=body.item_id, action=body.action
    )


@router.post("/analytics", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 422))
def report(body: AnalyticsIn, charter: CharterDep, principal: MaybePrincipal) -> CountedOut:
    """Count one click or page view (aggregate only; follows the User Experience Program)."""
    sid = person(principal)
    kind = "crash_data" if body.event == "crash" else "product_interaction"
    counted = charter.app_vault.analytics.add(sid, [Report(kind, body.module, body.event)])
    return CountedOut(counted=counted > 0)


@router.get("/analytics", responses=responses(401, 403))
def counts(charter: CharterDep, principal: ServicePrincipal) -> list[CountOut]:
    """The aggregate counters (a service credential)."""
    del principal
    return [
        CountOut(module=c.module, event=c.event, day=c.day, count=c.reports)
        for c in charter.app_vault.analytics.report()
    ]
