"""
``/v1/me/...``: the rights engine over HTTP for the person (the staff side is
:mod:`charter.api.routers.staff`).

User routes need a **user token** (``ut_...``): the caller acts on their own data only, so
no subject id appears in these paths. Download links (``/v1/exports/{token}``) are their
own credential: single use, expiring after 7 days.

Staff routes need a service credential of the ``privacy_center`` service; the staff member
names themself in ``X-Staff-Member`` (recorded in the request history and audit log).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, JsonValue

from charter.api.deps import AnyPrincipal, CharterDep, Principal, ServicePrincipal
from charter.api.errors import responses
from charter.api.models import rfc3339
from charter.errors import RefusedError
from charter.rights import Request as RightsRequest
from charter.rights import Rights

router = APIRouter(tags=["rights"])

STAFF_SERVICE = "privacy_center"
ID_PATTERN = r"^[a-z]{2}_[0-9a-f]{32}$"
RECORD_PATTERN = r"^[0-9a-f]{32}$"


def get_rights(charter: CharterDep) -> Rights:
    """The deployment's :class:`Rights`."""
    return charter.rights


def require_user(principal: AnyPrincipal) -> str:
    """
    The subject id of a user token.

    Raises:
        RefusedError: a service credential (403): these routes act for one person only.
    """
    if principal.subject_id is None:
        raise RefusedError("this operation needs a user token", code="forbidden")
    return principal.subject_id


def require_staff(
    principal: ServicePrincipal,
    x_staff_member: Annotated[
        str, Header(pattern=r"^[A-Za-z0-9_.@-]{1,60}$", description="The staff member acting.")
    ],
) -> str:
    """
    The staff member acting through a ``privacy_center`` service credential.

    Raises:
        RefusedError: a credential of another service (403).
    """
    if principal.service != STAFF_SERVICE:
        raise RefusedError("staff routes need a privacy_center credential", code="forbidden")
    return x_staff_member


RightsDep = Annotated[Rights, Depends(get_rights)]
Me = Annotated[str, Depends(require_user)]
Staff = Annotated[str, Depends(require_staff)]


class RequestOut(BaseModel):
    """A rights request or complaint (no personal text)."""

    id: str
    kind: str
    state: str
    service: str | None
    assigned_to: str | None
    outcome: str | None
    result: dict[str, JsonValue]
    created_at: str
    due_at: str
    closed_at: str | None
    days_left: float


def request_out(r: RightsRequest, now: int) -> RequestOut:
    return RequestOut(
        id=r.id,
        kind=r.kind.value,
        state=r.state.value,
        service=r.service,
        assigned_to=r.assigned_to,
        outcome=r.outcome,
        result=r.result,
        created_at=rfc3339(r.created_at) or "",
        due_at=rfc3339(r.due_at) or "",
        closed_at=rfc3339(r.closed_at),
        days_left=round(r.days_left(now), 2),
    )


class ExportIn(BaseModel):
    """Which pseudonymous ids of this device to include."""

    pseudonyms: list[str] = Field(default_factory=list, max_length=20)


class ExportOut(BaseModel):
    """A finished export: download it once from ``download`` before ``expires_at``."""

    request_id: str
    download: str
    size: int
    records: int
    expires_at: str


class CorrectionIn(BaseModel):
    """The corrected value."""

    value: JsonValue


class CorrectionOut(BaseModel):
    """Keyed fingerprints of the old and new value."""

    record_id: str
    old_fingerprint: str
    new_fingerprint: str


class ErasureOut(BaseModel):
    """What was deleted."""

    request_id: str
    records: int
    by_service: dict[str, int]
    device_commands: list[str]


class WithdrawIn(BaseModel):
    """The service whose consent is withdrawn."""

    service: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


class RequestIn(BaseModel):
    """A request or complaint."""

    kind: Literal["access", "correct", "delete", "withdraw", "complain"]
    service: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    message: str | None = Field(default=None, min_length=1, max_length=20_000)


class ConsentIn(BaseModel):
    """Consent to the current policy of a scope."""

    scope: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    method: Literal["privacy_center", "device_first_run", "api"] = "api"


class NoticeOut(BaseModel):
    """A policy the person must see (missing consent, new version, re-consent)."""

    scope: str
    status: str
    current_version: int
    consented_version: int | None
    changes: list[str]


class CommandOut(BaseModel):
    """A command pending for one of the person's devices."""

    id: str
    device_id: str
    kind: str
    service: str | None
    created_at: str


# -- the person's own rights --------------------------------------------------------------


@router.post(
    "/v1/me/exports",
    status_code=201,
    response_model=ExportOut,
    responses=responses(401, 403, 404, 422),
)
async def create_export(me: Me, rights: RightsDep, body: ExportIn | None = None) -> ExportOut:
    """R1: build a copy of all my data (and of the pseudonymous ids this device presents)."""
    pseudonyms = body.pseudonyms if body else []
    request_id, ticket = await run_in_threadpool(rights.export, me, pseudonyms=pseudonyms)
    return ExportOut(
        request_id=request_id,
        download=f"/v1/exports/{ticket.token}",
        size=ticket.size,
        records=ticket.records,
        expires_at=rfc3339(ticket.expires_at) or "",
    )


@router.get(
    "/v1/exports/{token}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, **responses(404)},
)
async def download_export(
    token: Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    rights: RightsDep,
) -> StreamingResponse:
    """Download an export once; the link then stops working."""
    chunks: Iterator[bytes] = await run_in_threadpool(rights.download, token)
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/v1/me/records/{record_id}/correction",
    response_model=CorrectionOut,
    responses=responses(401, 403, 404, 422),
)
async def correct_record(
    record_id: Annotated[str, Path(pattern=RECORD_PATTERN)],
    body: CorrectionIn,
    me: Me,
    rights: RightsDep,
) -> CorrectionOut:
    """R2: correct a value I provided."""
    result = await run_in_threadpool(rights.correct, me, record_id, body.value)
    return CorrectionOut(
        record_id=result.record_id,
        old_fingerprint=result.old_fingerprint,
        new_fingerprint=result.new_fingerprint,
    )


@router.delete("/v1/me/data", response_model=ErasureOut, responses=responses(401, 403, 404, 422))
async def delete_data(
    me: Me,
    rights: RightsDep,
    service: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = None,
    data_type: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = None,
    record_id: Annotated[str | None, Query(pattern=RECORD_PATTERN)] = None,
) -> ErasureOut:
    """R3: delete one record, a data type of a service, a service's data, or everything."""
    result = await run_in_threadpool(
        lambda: rights.erase(me, service=service, data_type=data_type, record_id=record_id)
    )
    return ErasureOut(
        request_id=result.request_id,
        records=result.records,
        by_service=result.by_service,
        device_commands=list(result.device_commands),
    )


@router.post(
    "/v1/me/withdrawals", response_model=ErasureOut, responses=responses(401, 403, 404, 422)
)
async def withdraw(body: WithdrawIn, me: Me, rights: RightsDep) -> ErasureOut:
    """R4: withdraw consent for a service: collection stops, its data is deleted here and on my devices."""
    result = await run_in_threadpool(rights.withdraw, me, body.service)
    return ErasureOut(
        request_id=result.request_id,
        records=result.records,
        by_service=result.by_service,
        device_commands=list(result.device_commands),
    )


@router.delete("/v1/me", status_code=200, responses=responses(401, 403, 404))
async def delete_account(me: Me, rights: RightsDep) -> dict[str, str]:
    """R5: delete my account: keys destroyed first, then every row and file."""
    request_id = await run_in_threadpool(rights.delete_account, me)
    return {"request_id": request_id, "state": "closed"}


@router.get("/v1/me/requests", response_model=list[RequestOut], responses=responses(401, 403))
async def my_requests(me: Me, rights: RightsDep) -> list[RequestOut]:
    """My requests and complaints, newest first."""
    now = rights.gate.clock()
    return [request_out(r, now) for r in await run_in_threadpool(rights.requests.for_subject, me)]


@router.post(
    "/v1/me/requests",
    status_code=201,
    response_model=RequestOut,
    responses=responses(401, 403, 404, 422),
)
async def filerequest_out(body: RequestIn, me: Me, rights: RightsDep) -> RequestOut:
    """File a request or complaint; it is answered within 30 days."""
    r = await run_in_threadpool(
        lambda: rights.requests.file(me, body.kind, service=body.service, message=body.message)
    )
    return request_out(r, rights.gate.clock())


@router.post("/v1/me/consents", status_code=201, responses=responses(401, 403, 404, 422))
async def give_consent(body: ConsentIn, me: Me, rights: RightsDep) -> dict[str, Any]:
    """Consent to the current policy of ``general`` or a service (recorded as proof)."""
    c = await run_in_threadpool(lambda: rights.consents.record(me, body.scope, method=body.method))
    return {
        "scope": c.scope,
        "version": c.version,
        "policy_hash": c.policy_hash,
        "consented_at": rfc3339(c.consented_at),
    }


@router.get("/v1/me/policy-notices", response_model=list[NoticeOut], responses=responses(401, 403))
async def policy_notices(me: Me, rights: RightsDep) -> list[NoticeOut]:
    """Policies I have not consented to, new versions, and re-consents required."""
    notices = await run_in_threadpool(rights.consents.notices, me)
    return [
        NoticeOut(
            scope=n.scope,
            status=n.status.value,
            current_version=n.current_version,
            consented_version=n.consented_version,
            changes=list(n.changes),
        )
        for n in notices
    ]


class DeviceIn(BaseModel):
    """A device agent enrolling with the person's account."""

    device_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,120}$")


@router.post("/v1/me/devices", status_code=201, responses=responses(401, 403, 404, 422))
async def register_device(body: DeviceIn, me: Me, rights: RightsDep) -> dict[str, str]:
    """Register a device of mine, so that commands (withdrawals, deletions) reach it."""
    await run_in_threadpool(lambda: rights.devices.register(me, body.device_id))
    return {"device_id": body.device_id, "subject_id": me}


@router.get(
    "/v1/me/device-commands", response_model=list[CommandOut], responses=responses(401, 403)
)
async def pending_commands(
    me: Me, rights: RightsDep, device_id: Annotated[str | None, Query(max_length=120)] = None
) -> list[CommandOut]:
    """Commands my devices have not confirmed yet."""
    items = await run_in_threadpool(
        lambda: rights.devices.pending(subject_id=me, device_id=device_id)
    )
    return [
        CommandOut(
            id=c.id,
            device_id=c.device_id,
            kind=c.kind,
            service=c.service,
            created_at=rfc3339(c.created_at) or "",
        )
        for c in items
    ]


@router.post(
    "/v1/me/device-commands/{command_id}/ack",
    response_model=CommandOut,
    responses=responses(401, 403, 404),
)
async def ack_command(
    command_id: Annotated[str, Path(pattern=ID_PATTERN)], me: Me, rights: RightsDep
) -> CommandOut:
    """A device confirms it executed a command."""
    c = await run_in_threadpool(lambda: rights.devices.ack(command_id, subject_id=me))
    return CommandOut(
        id=c.id,
        device_id=c.device_id,
        kind=c.kind,
        service=c.service,
        created_at=rfc3339(c.created_at) or "",
    )


# -- staff ----------------------------------------------------------------------------------


def vars_of(item: object) -> dict[str, Any]:
    """A dataclass with slots as a dict."""
    return {name: getattr(item, name) for name in item.__slots__}  # type: ignore[attr-defined]


__all__ = [
    "Principal",
    "RightsDep",
    "Staff",
    "get_rights",
    "request_out",
    "require_staff",
    "require_user",
    "router",
    "vars_of",
]
