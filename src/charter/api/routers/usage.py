"""
App usage data (``/v1/usage``): a device sends batches of usage events with the person's
access token (each event gets the gate's outcome); the person reads their privacy budget;
staff release a DP aggregate; third parties read released aggregates only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.api.routers.rights import Staff
from charter.errors import RefusedError

router = APIRouter(prefix="/v1/usage", tags=["usage"])

Text = Annotated[str, Field(min_length=1, max_length=120)]


class EventIn(BaseModel):
    """One usage event: its kind and its declared fields."""

    kind: Literal["usage_sequence", "app_status", "installed_apps_snapshot", "essential"]
    fields: dict[str, Any] = Field(default_factory=dict, max_length=20)


class BatchIn(BaseModel):
    """A batch of one device's events."""

    device: Text
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class OutcomeOut(BaseModel):
    index: int
    kind: str
    accepted: bool
    reason: str
    message: str


class BudgetOut(BaseModel):
    purpose: str
    spent: float
    cap: float
    left: float
    releases: int


def subject_of(principal: AnyPrincipal) -> str:
    if principal.subject_id is None:
        raise RefusedError("call with the person's access token", code="forbidden")
    return principal.subject_id


@router.post("/events", response_model=list[OutcomeOut], responses=responses(401, 403, 422))
async def post_events(body: BatchIn, principal: AnyPrincipal, charter: CharterDep) -> list[Any]:
    """Offer a device's usage events; each gets the gate's outcome and reason."""
    subject = subject_of(principal)
    events = [e.model_dump() for e in body.events]
    out = await run_in_threadpool(
        charter.usage.events.submit, subject, body.device, events, actor="subject"
    )
    return [_o(o) for o in out]


def _o(o: Any) -> OutcomeOut:
    return OutcomeOut(
        index=o.index, kind=o.kind, accepted=o.accepted, reason=o.reason, message=o.message
    )


@router.get("/budget", response_model=list[BudgetOut], responses=responses(401, 403))
async def get_budget(principal: AnyPrincipal, charter: CharterDep) -> list[BudgetOut]:
    """The person's privacy budget: spent and left, per purpose, over their lifetime."""
    rows = await run_in_threadpool(charter.usage.analytics.spent, subject_of(principal))
    return [
        BudgetOut(purpose=r.purpose, spent=r.spent, cap=r.cap, left=r.left, releases=r.releases)
        for r in rows
    ]


@router.post("/releases", responses=responses(401, 403))
async def post_release(staff: Staff, charter: CharterDep) -> dict[str, Any]:
    """Staff: release the app-usage histogram (OpenDP, k-suppressed, budget-charged)."""
    out = await run_in_threadpool(charter.usage.analytics.release_app_usage, actor=f"staff:{staff}")
    r = out.release
    return {
        "release_id": out.release_id,
        "epsilon": r.epsilon,
        "k": r.k,
        "accuracy": r.accuracy,
        "alpha": r.alpha,
        "suppressed": sum(c is None for c in r.counts),
    }


@router.get("/aggregates", responses=responses(401))
async def get_aggregates(principal: AnyPrincipal, charter: CharterDep) -> list[dict[str, Any]]:
    """The third-party interface: released aggregates only, with no identifier column."""
    return await run_in_threadpool(charter.usage.analytics.third_party_view)


class ReportIn(BaseModel):
    """One locally privatised report (optimized local hashing)."""

    a: int = Field(ge=1, lt=(1 << 31) - 1, description="Hash multiplier.")
    b: int = Field(ge=0, lt=(1 << 31) - 1, description="Hash offset.")
    bucket: int = Field(ge=0, lt=1 << 16, description="Below g = round(e^ε) + 1.")


class ReportsIn(BaseModel):
    """A batch of privatised reports at the declared ε (no device, no person)."""

    epsilon: float = Field(gt=0, le=20, description="Must be the ε the catalog declares.")
    reports: list[ReportIn] = Field(min_length=1, max_length=10_000)


@router.post("/ldp", responses=responses(401, 422))
async def post_ldp(body: ReportsIn, principal: AnyPrincipal, charter: CharterDep) -> dict[str, int]:
    """Keep locally private reports; nothing of the sender is kept with them."""
    reports = [r.model_dump() for r in body.reports]
    n = await run_in_threadpool(charter.usage.local.add, body.epsilon, reports)
    return {"kept": n}


@router.get("/ldp/estimates", responses=responses(401, 403))
async def get_ldp_estimates(staff: Staff, charter: CharterDep) -> dict[str, float]:
    """Staff: estimated reports per system app, from the locally private reports."""
    return await run_in_threadpool(charter.usage.local.estimates)
