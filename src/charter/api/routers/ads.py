"""
Advertising (``/v1/ads``): a device gets or resets its advertising ID, asks for an ad (the
answer says which ad and why: a segment, or non-personalized and the reason), records an ad
interaction, and hands a short-video partner the ID hashed for that partner; the person
sees and deletes their segments.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.api.routers.usage import subject_of

router = APIRouter(prefix="/v1/ads", tags=["ads"])

Text = Annotated[str, Field(min_length=1, max_length=120)]
AdId = Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$", description="An advertising ID.")]


class DeviceIn(BaseModel):
    device: Text


class AdRequestIn(BaseModel):
    ad_id: AdId
    slot: Text


class InteractionIn(BaseModel):
    ad_id: AdId
    ad: Text
    kind: Literal["view", "click"]


class PartnerIn(BaseModel):
    ad_id: AdId
    partner: Text


class DeleteIn(BaseModel):
    ids: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=100)


@router.post("/id", responses=responses(401, 403, 422))
async def new_id(body: DeviceIn, principal: AnyPrincipal, charter: CharterDep) -> dict[str, str]:
    """A new advertising ID for the device (replacing its previous one: a reset)."""
    ad_id = await run_in_threadpool(charter.ads.new_id, subject_of(principal), body.device)
    return {"ad_id": ad_id}


@router.post("/decide", responses=responses(401, 403, 404, 422))
async def decide(body: AdRequestIn, principal: AnyPrincipal, charter: CharterDep) -> dict[str, Any]:
    """Choose an ad for a slot, and say why."""
    choice = await run_in_threadpool(
        charter.ads.decide, subject_of(principal), body.ad_id, body.slot
    )
    return choice.to_json()


@router.post("/interactions", responses=responses(401, 403, 404, 422))
async def interaction(
    body: InteractionIn, principal: AnyPrincipal, charter: CharterDep
) -> dict[str, bool]:
    """Record a view or click of an ad (kept only under the gate's rules)."""
    subject = subject_of(principal)
    await run_in_threadpool(charter.ads.check_id, subject, body.ad_id)
    kept = await run_in_threadpool(charter.ads.record_interaction, subject, body.ad, body.kind)
    return {"kept": kept}


@router.post("/partner-id", responses=responses(401, 403, 404, 422))
async def partner_id(
    body: PartnerIn, principal: AnyPrincipal, charter: CharterDep
) -> dict[str, str]:
    """The advertising ID as a short-video partner receives it: hashed with its own key."""
    value = await run_in_threadpool(
        charter.ads.partner_id, subject_of(principal), body.ad_id, body.partner
    )
    return {"partner": body.partner, "hashed_ad_id": value}


@router.get("/segments", responses=responses(401, 403))
async def segments(principal: AnyPrincipal, charter: CharterDep) -> list[dict[str, Any]]:
    """The person's own segments."""
    return await run_in_threadpool(charter.ads.my_segments, subject_of(principal))


@router.post("/segments/refresh", responses=responses(401, 403))
async def refresh(principal: AnyPrincipal, charter: CharterDep) -> dict[str, int]:
    """Rebuild the person's segments (refused by the gate when personalized ads are off)."""
    return await run_in_threadpool(charter.ads.refresh, subject_of(principal))


@router.post("/segments/delete", responses=responses(401, 403, 422))
async def delete_segments(
    body: DeleteIn, principal: AnyPrincipal, charter: CharterDep
) -> dict[str, int]:
    """Delete some (or all, with no ids) of the person's segments."""
    n = await run_in_threadpool(charter.ads.delete_segments, subject_of(principal), body.ids)
    return {"deleted": n}
