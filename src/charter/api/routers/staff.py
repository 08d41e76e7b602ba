"""
``/v1/staff/...``: the request queue, alarms, the government-request register and the
transparency report over HTTP.

Staff routes need a service credential of the ``privacy_center`` service; the staff member
names themself in ``X-Staff-Member`` (recorded in the request history and audit log).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, JsonValue

from charter.api.errors import responses
from charter.api.models import rfc3339
from charter.api.routers.rights import (
    ID_PATTERN,
    RequestOut,
    RightsDep,
    Staff,
    request_out,
    vars_of,
)
from charter.rights.transparency import render_csv, render_html

router = APIRouter(tags=["rights"])


class StaffAnswerIn(BaseModel):
    """An answer to the requester."""

    text: str = Field(min_length=1, max_length=20_000)


class StaffCloseIn(BaseModel):
    """How the request ended."""

    outcome: Literal["fulfilled", "partially_fulfilled", "rejected", "withdrawn"]


class StaffCorrectionIn(BaseModel):
    """The correction a person asked for: which record (by its keyed fingerprint, as the
    candidates list names it) and the corrected value."""

    record: str = Field(pattern=r"^[0-9a-f]{16}$")
    value: JsonValue


class CandidateOut(BaseModel):
    """A record a correction request may be about (no value, no id)."""

    reference: str
    service: str
    data_type: str
    label: str
    collected_at: str


class StaffCorrectionOut(BaseModel):
    """What was applied: the record's fingerprint and those of the old and new value."""

    request_id: str
    record_ref: str
    old_fingerprint: str
    new_fingerprint: str


class GovRequestIn(BaseModel):
    """A government request to log."""

    received_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    authority: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    kind: Literal["user_data", "content_removal", "emergency", "preservation"]
    accounts_affected: int = Field(ge=0)
    outcome: Literal["disclosed", "partially_disclosed", "rejected", "no_data", "pending"]


@router.get(
    "/v1/staff/requests", response_model=list[RequestOut], responses=responses(401, 403, 422)
)
async def staff_queue(
    staff: Staff,
    rights: RightsDep,
    state: Annotated[Literal["open", "assigned", "answered", "closed"] | None, Query()] = None,
) -> list[RequestOut]:
    """The request and complaint queue, soonest deadline first."""
    now = rights.gate.clock()
    return [
        request_out(r, now)
        for r in await run_in_threadpool(lambda: rights.requests.queue(state=state))
    ]


@router.get("/v1/staff/alarms", response_model=list[RequestOut], responses=responses(401, 403))
async def staff_alarms(staff: Staff, rights: RightsDep) -> list[RequestOut]:
    """Requests whose legal deadline is less than 5 days away or past."""
    now = rights.gate.clock()
    return [request_out(r, now) for r in await run_in_threadpool(rights.requests.alarms)]


@router.get("/v1/staff/requests/{request_id}", responses=responses(401, 403, 404))
async def staff_show(
    request_id: Annotated[str, Path(pattern=ID_PATTERN)], staff: Staff, rights: RightsDep
) -> dict[str, Any]:
    """One request with its texts (read through the gate, audited) and history."""
    r = await run_in_threadpool(rights.requests.get, request_id)
    texts = await run_in_threadpool(
        lambda: rights.requests.texts(request_id, actor=f"staff:{staff}")
    )
    history = [
        {"at": rfc3339(at), "state": s, "actor": a} | ({"assigned_to": to} if to else {})
        for at, s, a, to in rights.requests.history_with_assignees(request_id)
    ]
    return {
        "request": request_out(r, rights.gate.clock()).model_dump(),
        "texts": texts,
        "history": history,
    }


@router.post(
    "/v1/staff/requests/{request_id}/assign",
    response_model=RequestOut,
    responses=responses(401, 403, 404, 422),
)
async def staff_assign(
    request_id: Annotated[str, Path(pattern=ID_PATTERN)], staff: Staff, rights: RightsDep
) -> RequestOut:
    """Take a request."""
    return request_out(
        await run_in_threadpool(rights.requests.assign, request_id, staff), rights.gate.clock()
    )


@router.post(
    "/v1/staff/requests/{request_id}/answer",
    response_model=RequestOut,
    responses=responses(401, 403, 404, 422),
)
async def staff_answer(
    request_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: StaffAnswerIn,
    staff: Staff,
    rights: RightsDep,
) -> RequestOut:
    """Answer the requester."""
    return request_out(
        await run_in_threadpool(rights.requests.answer, request_id, staff, body.text),
        rights.gate.clock(),
    )


@router.post(
    "/v1/staff/requests/{request_id}/close",
    response_model=RequestOut,
    responses=responses(401, 403, 404, 422),
)
async def staff_close(
    request_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: StaffCloseIn,
    staff: Staff,
    rights: RightsDep,
) -> RequestOut:
    """Close a request with its outcome."""
    r = await run_in_threadpool(
        lambda: rights.requests.close(request_id, f"staff:{staff}", outcome=body.outcome)
    )
    return request_out(r, rights.gate.clock())


@router.get(
    "/v1/staff/requests/{request_id}/correction-candidates",
    response_model=list[CandidateOut],
    responses=responses(401, 403, 404, 422),
)
async def staff_correction_candidates(
    request_id: Annotated[str, Path(pattern=ID_PATTERN)], staff: Staff, rights: RightsDep
) -> list[CandidateOut]:
    """The requester's records a correction request may be about, by fingerprint."""
    found = await run_in_threadpool(rights.correction_candidates, request_id)
    return [
        CandidateOut(
            reference=c.reference,
            service=c.service,
            data_type=c.data_type,
            label=c.label,
            collected_at=rfc3339(c.collected_at) or "",
        )
        for c in found
    ]


@router.post(
    "/v1/staff/requests/{request_id}/correction",
    response_model=StaffCorrectionOut,
    responses=responses(401, 403, 404, 422),
)
async def staff_apply_correction(
    request_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: StaffCorrectionIn,
    staff: Staff,
    rights: RightsDep,
) -> StaffCorrectionOut:
    """Apply the correction a person asked for, through the gate (protected as declared,
    audited with fingerprints), and close the request as fulfilled."""
    done = await run_in_threadpool(
        lambda: rights.apply_correction(request_id, body.record, body.value, staff=staff)
    )
    return StaffCorrectionOut(
        request_id=done.request_id,
        record_ref=done.record_ref,
        old_fingerprint=done.old_fingerprint,
        new_fingerprint=done.new_fingerprint,
    )


@router.get("/v1/staff/gov-requests", responses=responses(401, 403))
async def gov_list(
    staff: Staff, rights: RightsDep, year: Annotated[int | None, Query(ge=1970, le=9999)] = None
) -> list[dict[str, Any]]:
    """The government-request register."""
    return [vars_of(g) for g in await run_in_threadpool(lambda: rights.register.list(year=year))]


@router.post("/v1/staff/gov-requests", status_code=201, responses=responses(401, 403, 422))
async def gov_add(body: GovRequestIn, staff: Staff, rights: RightsDep) -> dict[str, Any]:
    """Log a government request."""
    g = await run_in_threadpool(
        lambda: rights.register.add(**body.model_dump(), actor=f"staff:{staff}")
    )
    return vars_of(g)


@router.get(
    "/v1/staff/transparency/{year}",
    response_model=None,
    responses={
        200: {
            "description": "The report as HTML or CSV.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **responses(401, 403, 422),
    },
)
async def transparency(
    year: Annotated[int, Path(ge=1970, le=9999)],
    staff: Staff,
    rights: RightsDep,
    format: Annotated[Literal["html", "csv"], Query()] = "html",
) -> PlainTextResponse:
    """The yearly transparency report as HTML or CSV."""
    report = await run_in_threadpool(rights.register.report, year)
    if format == "csv":
        return PlainTextResponse(render_csv(report), media_type="text/csv")
    return PlainTextResponse(
        render_html(report, deployment=rights.gate.catalog.info.name), media_type="text/html"
    )
