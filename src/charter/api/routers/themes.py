"""
Themes (``/v1/themes``): browse the store (no account needed, ``?market=`` names where),
the first-run choice (asked with the terms, recorded as consent), favourites and purchases
(a signed-in account only), recommendations, and aggregate-only analytics.

Refusals carry their reason: ``market_unavailable`` (the promise in the message) where the
deployment excludes the market, ``login_required`` for favourites without an account,
``consent_required`` before the first-run choice. See ``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
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
from charter.services.themes import Recommendations, Resource
from charter.services.themes.service import KINDS

router = APIRouter(prefix="/v1/themes", tags=["themes"])

ResourceId = Annotated[str, Path(pattern=r"^[a-z]_[a-z]{1,16}$", description="A resource id.")]


class ResourceOut(BaseModel):
    """A resource of the store."""

    id: str
    kind: str
    name: str
    tags: list[str]
    price_cents: int


class FirstRunOut(BaseModel):
    """The first-run choice: whether it was made, the answer, and the terms it is asked with."""

    asked: bool
    personalized: bool
    policy_version: int
    terms: str = Field(description="Where the terms and privacy policy are shown.")


class FirstRunIn(BaseModel):
    """The answer on the first visit to the wallpapers home page."""

    model_config = ConfigDict(extra="forbid")

    accept_terms: bool = Field(description="The terms and privacy policy are accepted.")
    personalized: bool = Field(description="Personalised recommendations, yes or no.")


class RecommendationsOut(BaseModel):
    """Suggested resources and what they were drawn from."""

    personalized: bool
    basis: list[str]
    resources: list[ResourceOut]


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
    """Whether a report was counted (not when the User Experience Program is off)."""

    counted: bool


def _out(r: Resource) -> ResourceOut:
    return ResourceOut(
        id=r.id, kind=r.kind, name=r.name, tags=list(r.tags), price_cents=r.price_cents
    )


def _recommended(found: Recommendations) -> RecommendationsOut:
    return RecommendationsOut(
        personalized=found.personalized,
        basis=list(found.basis),
        resources=[_out(r) for r in found.resources],
    )


@router.get("/resources", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 422))
def browse(
    request: Request,
    charter: CharterDep,
    principal: MaybePrincipal,
    market: MarketQuery = None,
    kind: Annotated[str | None, Query(description=f"One of: {', '.join(KINDS)}.")] = None,
) -> list[ResourceOut]:
    """The store's resources offered in the market."""
    where = market_for(request, principal, market)
    return [_out(r) for r in charter.themes.browse(where, kind)]


@router.get(
    "/resources/{resource_id}", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 404, 422)
)
def view(
    request: Request,
    resource_id: ResourceId,
    charter: CharterDep,
    principal: MaybePrincipal,
    market: MarketQuery = None,
) -> ResourceOut:
    """One resource (its view counted in aggregate)."""
    where = market_for(request, principal, market)
    return _out(charter.themes.view(resource_id, where, person(principal)))


@router.get("/first-run", responses=responses(401, 403))
def first_run(charter: CharterDep, principal: MaybePrincipal) -> FirstRunOut:
    """Whether the person has answered the first-run choice; ask it with the terms if not."""
    sid = require_person(principal)
    found = charter.themes.first_run(sid)
    return FirstRunOut(
        asked=found.asked,
        personalized=found.personalized,
        policy_version=found.policy_version,
        terms=f"{charter.settings.issuer}/policies/themes",
    )


@router.post("/first-run", responses=responses(401, 403, 422))
def choose(body: FirstRunIn, charter: CharterDep, principal: MaybePrincipal) -> FirstRunOut:
    """Record the answer: consent to the terms and the personalisation choice."""
    sid = require_person(principal)
    found = charter.themes.choose(
        sid, personalized=body.personalized, accept_terms=body.accept_terms
    )
    return FirstRunOut(
        asked=found.asked,
        personalized=found.personalized,
        policy_version=found.policy_version,
        terms=f"{charter.settings.issuer}/policies/themes",
    )


@router.get("/favorites", responses=responses(401, 403))
def favorites(charter: CharterDep, principal: MaybePrincipal) -> list[ResourceOut]:
    """The signed-in person's favourites."""
    return [_out(r) for r in charter.themes.favorites(person(principal))]


@router.put("/favorites/{resource_id}", responses=responses(401, 403, 404))
def favorite(
    resource_id: ResourceId, charter: CharterDep, principal: MaybePrincipal
) -> ResourceOut:
    """Add a resource to the favourites (a signed-in account only)."""
    return _out(charter.themes.favorite(person(principal), resource_id))


@router.delete("/favorites/{resource_id}", status_code=204, responses=responses(401, 403))
def unfavorite(resource_id: ResourceId, charter: CharterDep, principal: MaybePrincipal) -> None:
    """Remove a favourite."""
    charter.themes.unfavorite(person(principal), resource_id)


@router.get("/purchases", responses=responses(401, 403))
def purchases(charter: CharterDep, principal: MaybePrincipal) -> list[ResourceOut]:
    """What the signed-in person bought or downloaded."""
    return [_out(r) for r in charter.themes.purchases(person(principal))]


@router.post("/purchases/{resource_id}", status_code=201, responses=responses(401, 403, 404))
def purchase(
    resource_id: ResourceId, charter: CharterDep, principal: MaybePrincipal
) -> ResourceOut:
    """Buy or download a resource (a signed-in account only)."""
    return _out(charter.themes.purchase(person(principal), resource_id))


@router.get("/recommendations", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 403, 422))
def recommendations(
    request: Request, charter: CharterDep, principal: MaybePrincipal, market: MarketQuery = None
) -> RecommendationsOut:
    """Suggestions: personal only when the person's choice allows it."""
    where = market_for(request, principal, market)
    return _recommended(charter.themes.recommendations(where, person(principal)))


@router.post("/analytics", openapi_extra=OPTIONAL_AUTH, responses=responses(401, 422))
def report(body: AnalyticsIn, charter: CharterDep, principal: MaybePrincipal) -> CountedOut:
    """Count one click or page view (aggregate only; follows the User Experience Program)."""
    sid = person(principal)
    kind = "crash_data" if body.event == "crash" else "product_interaction"
    counted = charter.themes.analytics.add(sid, [Report(kind, body.module, body.event)])
    return CountedOut(counted=counted > 0)


@router.get("/analytics", responses=responses(401, 403))
def counts(charter: CharterDep, principal: ServicePrincipal) -> list[CountOut]:
    """The aggregate counters (a service credential): counts per module, event and day."""
    del principal
    return [
        CountOut(module=c.module, event=c.event, day=c.day, count=c.reports)
        for c in charter.themes.analytics.report()
    ]
