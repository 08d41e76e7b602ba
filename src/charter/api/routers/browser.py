"""
Mi Browser (``/v1/browser``): sync of bookmarks, history, tabs and settings; clearing history
on every device; the feed; aggregated analytics; the search-suggestion proxy.

The server never receives the addresses of visited pages: every request whose values may not
hold one (settings, analytics, feed interactions, suggestion text) is refused whole with
403 ``url_refused`` when any value looks like a URL. See ``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from charter.api.deps import AnyPrincipal, CharterDep, ServicePrincipal
from charter.api.errors import responses
from charter.errors import RefusedError
from charter.services.aggregates.counts import Report
from charter.services.browser import MAY_HOLD_URL, SuggestionRequest
from charter.services.browser.kinds import refuse_urls

router = APIRouter(prefix="/v1/browser", tags=["browser"])

Kind = Annotated[
    str, Path(pattern=r"^[a-z]{1,20}$", description=f"One of: {', '.join(MAY_HOLD_URL)}.")
]


def _me(principal: AnyPrincipal) -> str:
    if principal.subject_id is None:
        raise RefusedError("Mi Browser acts for a person: call with their token", code="forbidden")
    return principal.subject_id


class SyncIn(BaseModel):
    """A synced kind, whole: a list of entries (bookmarks, history, tabs) or an object of
    settings."""

    model_config = ConfigDict(extra="forbid")

    entries: list[dict[str, Any]] | dict[str, Any]


class SyncOut(BaseModel):
    """A synced kind's state."""

    kind: str
    version: int
    updated_at: int
    entries: list[dict[str, Any]] | dict[str, Any] | None = None


class ClearIn(BaseModel):
    """Clear browsing history everywhere; ``confirm`` says the person confirmed."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=120, description="The device clearing.")
    confirm: StrictBool = False


class ClearOut(BaseModel):
    """What clearing did: whether sync was on, and the commands sent to other devices."""

    synced: bool
    commands: list[str]


class ReportIn(BaseModel):
    """One analytics measure: a type, a module, an event and a value (names only)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=200)
    module: str = Field(max_length=200)
    event: str = Field(max_length=200)
    value: int = 1


class ReportsIn(BaseModel):
    """Analytics reports (1-500)."""

    model_config = ConfigDict(extra="forbid")

    reports: list[ReportIn] = Field(max_length=500)


class CountedOut(BaseModel):
    """How many items were taken."""

    counted: int


class CountOut(BaseModel):
    """A released aggregate (only counters enough reports made)."""

    day: int
    kind: str
    module: str
    event: str
    reports: int
    total: int


class FeedIn(BaseModel):
    """Feed interactions: ``[{content_id, topic, action}]``."""

    model_config = ConfigDict(extra="forbid")

    interactions: list[dict[str, Any]] = Field(max_length=500)


class FeedOut(BaseModel):
    """The feed's topics; ``reason`` says why they are not personalised."""

    personalized: bool
    topics: list[str]
    reason: str | None


class SuggestIn(BaseModel):
    """What was typed and the browser's state; the proxy keeps none of it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=400)
    incognito: StrictBool
    smart_address_bar: StrictBool
    searching: StrictBool = False


class SuggestOut(BaseModel):
    """Suggestions from the search engine."""

    suggestions: list[str]


@router.put("/sync/{kind}", response_model=SyncOut, responses=responses(401, 403, 404, 422))
def put_sync(kind: Kind, body: SyncIn, principal: AnyPrincipal, charter: CharterDep) -> SyncOut:
    """Sync a kind of browser data (replacing what was synced)."""
    done = charter.browser.put_sync(_me(principal), kind, body.entries)
    return SyncOut(kind=done.kind, version=done.version, updated_at=done.updated_at)


@router.get("/sync/{kind}", response_model=SyncOut, responses=responses(401, 403, 404))
def get_sync(kind: Kind, principal: AnyPrincipal, charter: CharterDep) -> SyncOut:
    """A synced kind, for the person's own devices."""
    found = charter.browser.get_sync(_me(principal), kind)
    return SyncOut(
        kind=found.kind, version=found.version, updated_at=found.updated_at, entries=found.entries
    )


@router.post("/history/clear", response_model=ClearOut, responses=responses(401, 403, 422))
def clear_history(body: ClearIn, principal: AnyPrincipal, charter: CharterDep) -> ClearOut:
    """Clear browsing history; with sync on, also on the person's other devices (once they
    confirm: without ``confirm`` the answer is 403 ``confirmation_required``)."""
    done = charter.browser.clear_history(
        _me(principal), device_id=body.device_id, confirm=body.confirm
    )
    return ClearOut(synced=done.synced, commands=done.commands)


@router.post("/analytics", response_model=CountedOut, responses=responses(401, 403, 422))
def add_analytics(body: ReportsIn, principal: AnyPrincipal, charter: CharterDep) -> CountedOut:
    """Analytics reports: added to aggregated counters, never kept per person."""
    subject = _me(principal)
    reports = [r.model_dump() for r in body.reports]
    refuse_urls(reports, "reports")
    counted = charter.browser.analytics.add(subject, [Report(**r) for r in reports])
    return CountedOut(counted=counted)


@router.get("/analytics", response_model=list[CountOut], responses=responses(401, 403))
def released_analytics(_service: ServicePrincipal, charter: CharterDep) -> list[CountOut]:
    """The released aggregates (service credential): counters enough reports made."""
    return [CountOut(**vars_of(c)) for c in charter.browser.analytics.report()]


@router.post("/feed/interactions", response_model=CountedOut, responses=responses(401, 403, 422))
def feed_interactions(body: FeedIn, principal: AnyPrincipal, charter: CharterDep) -> CountedOut:
    """Interactions with the feed (content ids and topics), for the personalised feed."""
    return CountedOut(counted=charter.browser.record_feed(_me(principal), body.interactions))


@router.get("/feed", response_model=FeedOut, responses=responses(401, 403))
def feed(principal: AnyPrincipal, charter: CharterDep) -> FeedOut:
    """The feed's topics (personalised from the feed's own interactions only)."""
    found = charter.browser.feed(_me(principal))
    return FeedOut(personalized=found.personalized, topics=found.topics, reason=found.reason)


@router.post("/suggestions", response_model=SuggestOut, responses=responses(401, 403, 422))
def suggestions(
    body: SuggestIn, principal: AnyPrincipal, charter: CharterDep, response: Response
) -> SuggestOut:
    """Search suggestions through the proxy, which keeps nothing (never in incognito; with
    the Smart Address Bar off only once the person searches)."""
    _me(principal)
    found = charter.browser.suggest(
        SuggestionRequest(body.text, body.incognito, body.smart_address_bar, body.searching)
    )
    response.headers["Cache-Control"] = "no-store"
    return SuggestOut(suggestions=found)


def vars_of(item: object) -> dict[str, Any]:
    """A dataclass with slots as a dict."""
    return {name: getattr(item, name) for name in item.__slots__}  # type: ignore[attr-defined]
