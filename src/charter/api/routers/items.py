"""
``/v1/me/records``, ``/v1/me/activity`` and ``/v1/me/residence``: the person's own items (a
page at a time, newest first, only the page decrypted), one item's file, deleting one item,
who touched their data, and where it is kept. User token (``ut_...``) only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, JsonValue

from charter.api.errors import responses
from charter.api.models import rfc3339
from charter.api.routers.rights import RECORD_PATTERN, ErasureOut, Me, RightsDep

router = APIRouter(tags=["rights"])

SERVICE = r"^[a-z][a-z0-9_]{0,63}$"
RecordId = Annotated[str, Path(pattern=RECORD_PATTERN)]


class ItemOut(BaseModel):
    """One of my items. ``kind`` says what ``value`` is: ``value`` (readable), ``keyed_hash``
    (a keyed fingerprint, not reversible), ``password_hash`` (no value given), ``file``
    (download it from ``file``), ``unreadable`` (its key was destroyed) or ``empty``."""

    id: str
    reference: str
    service: str
    data_type: str
    label: str
    kind: str
    value: JsonValue
    file: str | None
    purposes: list[str]
    functions: list[str]
    source: str | None
    collected_at: str
    expires_at: str | None
    correctable: bool
    deletable: bool


class NotStoredOut(BaseModel):
    """A data type the service uses without storing it."""

    data_type: str
    label: str
    purposes: list[str]


class ItemsOut(BaseModel):
    """A page of my items of one service; ``next`` is the cursor of the next page."""

    service: str
    name: str
    counts: dict[str, int]
    items: list[ItemOut]
    next: str | None
    not_stored: list[NotStoredOut]


class ActivityOut(BaseModel):
    """One thing that happened to my data, in words."""

    at: str
    actor: str
    who: str
    action: str
    services: list[str]
    text: str


class ActivityPageOut(BaseModel):
    """A page of my activity, newest first; ``next`` is the cursor of the next page."""

    entries: list[ActivityOut]
    next: str | None


class StorageOut(BaseModel):
    """A storage provider and its locations."""

    provider: str
    locations: list[str]


class ResidenceOut(BaseModel):
    """Where my data is kept and who is responsible (null: the catalog names none)."""

    market: str
    market_name: str
    region: str
    region_name: str
    storage: list[StorageOut]
    controller: str | None
    processor: str | None
    transfer_mechanism: str | None


@router.get("/v1/me/records", response_model=ItemsOut, responses=responses(401, 403, 404, 422))
async def my_items(
    me: Me,
    rights: RightsDep,
    service: Annotated[str, Query(pattern=SERVICE)],
    data_type: Annotated[str | None, Query(pattern=SERVICE)] = None,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ItemsOut:
    """A page of my items of one service (one data type), newest first; only the page is
    decrypted."""
    view = await run_in_threadpool(
        lambda: rights.items(me, service, data_type=data_type, cursor=cursor, limit=limit)
    )
    return ItemsOut(
        service=view.service,
        name=view.name,
        counts=view.counts,
        items=[
            ItemOut(
                id=i.id,
                reference=i.reference,
                service=i.service,
                data_type=i.data_type,
                label=i.label,
                kind=i.kind,
                value=i.value,
                file=f"/v1/me/records/{i.id}/file" if i.kind == "file" else None,
                purposes=list(i.purposes),
                functions=list(i.functions),
                source=i.source,
                collected_at=rfc3339(i.collected_at) or "",
                expires_at=rfc3339(i.expires_at),
                correctable=i.correctable,
                deletable=i.deletable,
            )
            for i in view.items
        ],
        next=view.next_cursor,
        not_stored=[
            NotStoredOut(data_type=n.data_type, label=n.label, purposes=list(n.purposes))
            for n in view.not_stored
        ],
    )


@router.get(
    "/v1/me/records/{record_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **responses(401, 403, 404)},
)
async def my_item_file(record_id: RecordId, me: Me, rights: RightsDep) -> Response:
    """The file of one of my items, decrypted."""
    name, data = await run_in_threadpool(rights.item_file, me, record_id)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.delete(
    "/v1/me/records/{record_id}", response_model=ErasureOut, responses=responses(401, 403, 404)
)
async def delete_my_item(record_id: RecordId, me: Me, rights: RightsDep) -> ErasureOut:
    """R3 for one item: it is deleted (with its file), audited, and filed as a closed
    ``delete`` request. Account details are refused (403 ``kept_with_account``)."""
    result = await run_in_threadpool(rights.delete_item, me, record_id)
    return ErasureOut(
        request_id=result.request_id,
        records=result.records,
        by_service=result.by_service,
        device_commands=list(result.device_commands),
    )


@router.get("/v1/me/activity", response_model=ActivityPageOut, responses=responses(401, 403, 422))
async def my_activity(
    me: Me,
    rights: RightsDep,
    service: Annotated[str | None, Query(pattern=SERVICE)] = None,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ActivityPageOut:
    """Who touched my data: collects, reads by service and purpose, exports, switch
    changes and staff actions on my requests, newest first, in words."""
    page = await run_in_threadpool(
        lambda: rights.activity.page(me, service=service, cursor=cursor, limit=limit)
    )
    return ActivityPageOut(
        entries=[
            ActivityOut(
                at=rfc3339(a.at) or "",
                actor=a.actor,
                who=a.who,
                action=a.action,
                services=list(a.services),
                text=a.text,
            )
            for a in page.entries
        ],
        next=page.next_cursor,
    )


@router.get("/v1/me/residence", response_model=ResidenceOut, responses=responses(401, 403))
async def my_residence(me: Me, rights: RightsDep) -> ResidenceOut:
    """Where my data is kept (region, storage providers and locations) and who is
    responsible (controller, processor, transfer mechanism) where the catalog names them."""
    place = await run_in_threadpool(rights.residence, me)
    return ResidenceOut.model_validate(place.as_json())
