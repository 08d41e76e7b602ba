"""
Get Apps (``/v1/apps``): the catalogue (no account needed, ``?market=`` names where), installs,
reviews (public, the author's nickname masked to everyone else), recommendations, the
personalisation switch, and the Points Mall.

Refusals carry their reason ``market_unavailable`` and the promise in the message: the store
outside India, Russia, Spain and Indonesia; personalised recommendations in Spain
(``get_apps.recommendations_market_exclusion``); the Points Mall outside India
(``get_apps.points_mall_markets``). See ``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from charter.api.content_deps import (
    OPTIONAL_AUTH,
    MarketQuery,
    MaybePrincipal,
    market_for,
    person,
    require_person,
)
from charter.api.deps import CharterDep
from charter.api.errors import responses
from charter.services.get_apps import App, Points, Review

router = APIRouter(prefix="/v1/apps", tags=["get_apps"])

AppId = Annotated[str, Path(pattern=r"^a_[a-z]{1,16}$", description="An app id.")]
ReviewId = Annotated[str, Path(pattern=r"^rv_[0-9a-f]{32}$", description="A review id.")]


class AppOut(BaseModel):
    """An app of the store (every listed app passed the security audit)."""

    id: str
    name: str
    category: str
    audited: bool


class StoreOut(BaseModel):
    """The catalogue of a market, and what the market offers beside it."""

    market: str
    apps: list[AppOut]
    personalization_offered: bool
    points_mall_offered: bool


class ReviewIn(BaseModel):
    """A review: rating, text and the nickname to show (masked to others)."""

    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    text: str = Field(min_length=1, max_length=2000)
    nickname: str = Field(min_length=1, max_length=32)


class ReviewOut(BaseModel):
    """A review as the caller sees it: the nickname whole only on the caller's own."""

    id: str
    app_id: str
    rating: int
    text: str
    nickname: str
    mine: bool
    created_at: int


class ReviewPageOut(BaseModel):
    """One page of reviews, newest first."""

    reviews: list[ReviewOut]
    next_cursor: str | None


class SuggestionsOut(BaseModel):
    """Suggested apps."""

    personalized: bool
    apps: list[AppOut]


class SwitchIn(BaseModel):
    """Personalised recommendations on or off."""

    model_config = ConfigDict(extra="forbid")

    on: StrictBool


class SwitchOut(BaseModel):
    """The personalisation switch."""

    on: bool


class PointsOut(BaseModel):
    """A Points Mall balance and the prizes."""

    balance: int
    prizes: dict[str, int]


class RedeemIn(BaseModel):
    """A prize to exchange points for."""

    model_config = ConfigDict(extra="forbid")

    prize: str = Field(pattern=r"^[a-z_]{1,30}$")


def _app(a: App) -> AppOut:
    return AppOut(id=a.id, name=a.name, category=a.category, audited=a.audited)


def _review(r: Review) -> ReviewOut:
    return ReviewOut(
        id=r.id,
        app_id=r.app_id,
        rating=r.rating,
        text=r.text,
        nickname=r.nickname,
        mine=r.mine,
        created_at=r.created_at,
    )


def _points(p: Points) -> PointsOut:
    return PointsOut(balance=p.balance, prizes=p.prizes)


@router.get("", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 422))
def catalogue(
    request: Request,
    charter: CharterDep,
    principal: MaybePrincipal,
    market: MarketQuery = None,
    category: Annotated[str | None, Query(pattern=r"^[a-z]{1,20}$")] = None,
) -> StoreOut:
    """The apps offered in the market (the store exists only in the catalog's markets)."""
    where = market_for(request, principal, market)
    store = charter.get_apps
    return StoreOut(
        market=where,
        apps=[_app(a) for a in store.catalogue(where, category)],
        personalization_offered=store.personalization_offered(where),
        points_mall_offered=store.points_offered(where),
    )


@router.get("/installed", responses=responses(401, 403))
def installed(charter: CharterDep, principal: MaybePrincipal) -> list[AppOut]:
    """The apps the person installed through the store."""
    sid = require_person(principal)
    charter.get_apps.market_of(sid)
    return [_app(a) for a in charter.get_apps.installed(sid)]


@router.post("/{app_id}/installs", status_code=201, responses=responses(401, 403, 404))
def install(app_id: AppId, charter: CharterDep, principal: MaybePrincipal) -> AppOut:
    """Record an install."""
    return _app(charter.get_apps.install(require_person(principal), app_id))


@router.get(
    "/{app_id}/reviews", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 404, 422)
)
def reviews(
    request: Request,
    app_id: AppId,
    charter: CharterDep,
    principal: MaybePrincipal,
    market: MarketQuery = None,
    cursor: Annotated[str | None, Query(max_length=60)] = None,
) -> ReviewPageOut:
    """An app's reviews, newest first: nicknames masked except on the caller's own."""
    where = market_for(request, principal, market)
    page = charter.get_apps.review_page(app_id, where, viewer=person(principal), cursor=cursor)
    return ReviewPageOut(reviews=[_review(r) for r in page.reviews], next_cursor=page.next_cursor)


@router.post("/{app_id}/reviews", status_code=201, responses=responses(401, 403, 404, 422))
def write_review(
    app_id: AppId, body: ReviewIn, charter: CharterDep, principal: MaybePrincipal
) -> ReviewOut:
    """Publish a review (a signed-in account)."""
    found = charter.get_apps.review(
        require_person(principal),
        app_id,
        rating=body.rating,
        text=body.text,
        nickname=body.nickname,
    )
    return _review(found)


@router.delete("/reviews/{review_id}", status_code=204, responses=responses(401, 403, 404))
def delete_review(review_id: ReviewId, charter: CharterDep, principal: MaybePrincipal) -> None:
    """Delete one's own review."""
    charter.get_apps.reviews.delete(require_person(principal), review_id)


@router.get("/recommendations", responses=responses(401, 403))
def recommendations(charter: CharterDep, principal: MaybePrincipal) -> SuggestionsOut:
    """Apps for the person (personalised only with their switch on; never in Spain)."""
    found = charter.get_apps.recommendations(require_person(principal))
    return SuggestionsOut(personalized=found.personalized, apps=[_app(a) for a in found.apps])


@router.put("/personalization", responses=responses(401, 403, 422))
def personalization(body: SwitchIn, charter: CharterDep, principal: MaybePrincipal) -> SwitchOut:
    """Switch personalised recommendations (refused where they are not offered)."""
    return SwitchOut(on=charter.get_apps.set_personalization(require_person(principal), body.on))


@router.get("/points", responses=responses(401, 403))
def points(charter: CharterDep, principal: MaybePrincipal) -> PointsOut:
    """The person's points (the Points Mall is in India only)."""
    return _points(charter.get_apps.points(require_person(principal)))


@router.post("/points/redeem", responses=responses(401, 403, 422))
def redeem(body: RedeemIn, charter: CharterDep, principal: MaybePrincipal) -> PointsOut:
    """Exchange points for a prize (India only)."""
    return _points(charter.get_apps.redeem(require_person(principal), body.prize))
