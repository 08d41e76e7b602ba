"""
Mi Video (``/v1/video``): local or online features, online events, aggregated analytics,
trending; the history of local videos is refused (it stays on the device). See
``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.errors import RefusedError
from charter.services.aggregates.counts import Report

router = APIRouter(prefix="/v1/video", tags=["video"])


def _me(principal: AnyPrincipal) -> str:
    if principal.subject_id is None:
        raise RefusedError("Mi Video acts for a person: call with their token", code="forbidden")
    return principal.subject_id


class ModeIn(BaseModel):
    """Online features on, or local features only."""

    model_config = ConfigDict(extra="forbid")

    online: bool


class ModeOut(BaseModel):
    """The person's mode."""

    online: bool


class EventIn(BaseModel):
    """One online event: a data type of the Trending and Video function, a purpose, a value."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(max_length=40)
    purpose: str = Field(max_length=40)
    value: dict[str, Any]


class EventsIn(BaseModel):
    """Online events (1-500)."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(max_length=500)


class ReportIn(BaseModel):
    """One analytics measure."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=40)
    module: str = Field(max_length=40)
    event: str = Field(max_length=40)
    value: int = 1


class ReportsIn(BaseModel):
    """Analytics reports (1-500)."""

    model_config = ConfigDict(extra="forbid")

    reports: list[ReportIn] = Field(max_length=500)


class CountedOut(BaseModel):
    """How many items were taken."""

    counted: int


class TrendingOut(BaseModel):
    """Trending topics; ``reason`` says why they are not personalised."""

    personalized: bool
    topics: list[str]
    reason: str | None


@router.put("/mode", response_model=ModeOut, responses=responses(401, 403, 422))
def set_mode(body: ModeIn, principal: AnyPrincipal, charter: CharterDep) -> ModeOut:
    """Turn online features on or off (off: local features only, analytics alone collected)."""
    return ModeOut(online=charter.video.set_online(_me(principal), body.online))


@router.get("/mode", response_model=ModeOut, responses=responses(401, 403))
def get_mode(principal: AnyPrincipal, charter: CharterDep) -> ModeOut:
    """The person's mode."""
    return ModeOut(online=charter.video.online(_me(principal)))


@router.post("/watch-history", status_code=201, responses=responses(401, 403))
def watch_history(principal: AnyPrincipal, charter: CharterDep) -> None:
    """Always refused (403 ``on_device_only``): local watch history stays on the device."""
    charter.video.upload_watch_history(_me(principal))


@router.post("/events", response_model=CountedOut, responses=responses(401, 403, 422))
def events(body: EventsIn, principal: AnyPrincipal, charter: CharterDep) -> CountedOut:
    """Online events (likes, comments, subscriptions, watching), through the gate."""
    found = [e.model_dump() for e in body.events]
    return CountedOut(counted=charter.video.record(_me(principal), found))


@router.post("/analytics", response_model=CountedOut, responses=responses(401, 403, 422))
def analytics(body: ReportsIn, principal: AnyPrincipal, charter: CharterDep) -> CountedOut:
    """Analytics reports, in any mode: aggregated counters only."""
    reports = [Report(**r.model_dump()) for r in body.reports]
    return CountedOut(counted=charter.video.add_analytics(_me(principal), reports))


@router.get("/trending", response_model=TrendingOut, responses=responses(401, 403))
def trending(principal: AnyPrincipal, charter: CharterDep) -> TrendingOut:
    """Trending topics, personalised only where the catalog allows it."""
    found = charter.video.trending(_me(principal))
    return TrendingOut(personalized=found.personalized, topics=found.topics, reason=found.reason)
