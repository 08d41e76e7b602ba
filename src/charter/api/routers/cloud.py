"""
Cloud sync for a person's devices (``/v1/cloud``): upload, changes since a token, download,
delete to the trash, restore, empty the trash, plan and usage.

A device calls with the person's account access token (or a user token). Content travels as
raw bytes (``application/octet-stream``); an update names the version it was based on in
``If-Match`` and a stale one gets 409 with the current version. See ``docs/cloud.md``.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from charter.api.cloud_models import (
    BatchIn,
    CategoryOut,
    ChangesOut,
    ConflictOut,
    ItemOut,
    LinkIn,
    LinkOut,
    SyncIn,
    UploadIn,
    UploadOut,
    UsageOut,
)
from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import error_body, responses
from charter.api.media import OCTET_STREAM_BODY
from charter.api.routers import cloud_devices, cloud_sealed_links
from charter.errors import InputError, RefusedError
from charter.gate import StagedBlob
from charter.services.cloud import CATEGORIES, Cloud, ConflictError, Item
from charter.services.cloud.links import Link
from charter.services.cloud.uploads import CHUNK_BYTES, Upload

router = APIRouter(prefix="/v1/cloud", tags=["cloud"])
shared = APIRouter(tags=["cloud"])
"""The public side: ``/s/{token}`` serves a shared photo, stripped, to anyone with the link."""

LinkId = Annotated[str, Path(pattern=r"^cl_[0-9a-f]{32}$", description="A link id.")]
UploadId = Annotated[str, Path(pattern=r"^cu_[0-9a-f]{32}$", description="An upload id.")]
ItemId = Annotated[str, Path(pattern=r"^ci_[0-9a-f]{32}$", description="A cloud item id.")]
CategoryName = Annotated[
    str, Path(pattern=r"^[a-z_]{1,20}$", description=f"One of: {', '.join(CATEGORIES)}.")
]
STREAM_FROM = 256 * 1024
"""A new item's body of at least this many bytes is sealed while it arrives."""
MAX_INLINE_CONFLICT = 1 << 20
"""A conflict answer carries both contents inline up to this size each."""


def _out(item: Item) -> ItemOut:
    return ItemOut(
        id=item.id,
        category=item.category,
        version=item.version,
        state=item.state,
        size=item.size,
        change=item.change,
        created_at=item.created_at,
        updated_at=item.updated_at,
        purge_at=item.purge_at,
    )


def _subject(principal: AnyPrincipal) -> str:
    if principal.subject_id is None:
        raise RefusedError(
            "cloud sync is for a person's devices: call with their access token",
            code="forbidden",
        )
    return principal.subject_id


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise InputError(
            'If-Match carries the version the change is based on, e.g. If-Match: "3"',
            field="If-Match",
        )
    return int(text)


def _conflict(charter: CharterDep, subject_id: str, exc: ConflictError, sent: bytes) -> Response:
    current = exc.current
    content: bytes | None = None
    if current.state == "live" and current.size <= MAX_INLINE_CONFLICT:
        content = charter.cloud.content(subject_id, current.id)[1]
    body = ConflictOut(
        error=error_body(exc.code, exc.message, exc.field)["error"],
        current=_out(current),
        current_content_b64=base64.b64encode(content).decode() if content is not None else None,
        attempted_base_version=exc.attempted_base,
        attempted_content_b64=(
            base64.b64encode(sent).decode() if len(sent) <= MAX_INLINE_CONFLICT else None
        ),
    )
    return JSONResponse(body.model_dump(), status_code=409)


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ConflictOut, "description": "The item moved on: both versions."}
}


DEVICE_SWITCH = [Depends(cloud_devices.check_device_switch)]
"""A device naming itself (``Charter-Device``) is held to its own category switches."""


@router.post(
    "/{category}/items",
    status_code=201,
    responses={**responses(401, 403, 404, 422), **CONFLICT},
    dependencies=DEVICE_SWITCH,
    openapi_extra=OCTET_STREAM_BODY,
)
async def create_item(
    request: Request, category: CategoryName, principal: AnyPrincipal, charter: CharterDep
) -> ItemOut:
    """Upload a new item of a category (the body is its content)."""
    subject_id = _subject(principal)
    content = await _content(request, charter.cloud, subject_id, category)
    item = await run_in_threadpool(charter.cloud.upload, subject_id, category, content)
    return _out(item)


async def _content(
    request: Request, cloud: Cloud, subject_id: str, category: str
) -> bytes | StagedBlob:
    """A new item's content: a large body announced by its ``Content-Length`` is sealed into
    its file as it arrives (refused before any of it is read when the category is off or it
    would not fit the plan); a small one is read whole."""
    announced = request.headers.get("content-length", "")
    if not announced.isdigit() or int(announced) < STREAM_FROM:
        return await request.body()
    staged = await run_in_threadpool(cloud.stage, subject_id, category, int(announced))
    try:
        async for chunk in request.stream():
            staged.write(chunk)
    except BaseException:
        await run_in_threadpool(staged.discard)
        raise
    return staged


@router.post(
    "/{category}/batch",
    status_code=201,
    responses=responses(401, 403, 404, 422),
    dependencies=DEVICE_SWITCH,
)
def create_items(
    category: CategoryName, body: BatchIn, principal: AnyPrincipal, charter: CharterDep
) -> list[ItemOut]:
    """Upload up to 1,000 new items of a category at once (all or nothing)."""
    try:
        contents = [base64.b64decode(c, validate=True) for c in body.items]
    except ValueError:
        raise InputError("each item is base64", field="items") from None
    found = charter.cloud.upload_many(_subject(principal), category, contents)
    return [_out(i) for i in found]


@router.put(
    "/items/{item_id}",
    responses={**responses(401, 403, 404, 422), **CONFLICT},
    openapi_extra=OCTET_STREAM_BODY,
)
async def update_item(
    request: Request,
    item_id: ItemId,
    principal: AnyPrincipal,
    charter: CharterDep,
    if_match: Annotated[str, Header(description='The version it is based on: "3".')],
) -> Response:
    """Replace an item's content; ``If-Match`` names the version the change was made on."""
    subject_id = _subject(principal)
    base = _version(if_match)
    content = await request.body()
    current = await run_in_threadpool(charter.cloud.item, subject_id, item_id)
    try:
        item = await run_in_threadpool(
            lambda: charter.cloud.upload(
                subject_id, current.category, content, item_id=item_id, base_version=base
            )
        )
    except ConflictError as exc:
        return await run_in_threadpool(_conflict, charter, subject_id, exc, content)
    return JSONResponse(_out(item).model_dump())


@router.get(
    "/items/{item_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The content."},
        **responses(401, 403, 404),
    },
)
def download_item(item_id: ItemId, principal: AnyPrincipal, charter: CharterDep) -> Response:
    """An item's content; ``ETag`` is its version."""
    item, content = charter.cloud.content(_subject(principal), item_id)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"ETag": f'"{item.version}"', "Cache-Control": "no-store"},
    )


@router.delete("/items/{item_id}", responses={**responses(401, 403, 404, 422), **CONFLICT})
def delete_item(
    item_id: ItemId,
    principal: AnyPrincipal,
    charter: CharterDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Delete an item: to the trash (gallery, messages, contacts, notes, recordings) or at
    once; with ``If-Match``, only if it is still at that version."""
    subject_id = _subject(principal)
    try:
        item = charter.cloud.delete(subject_id, item_id, base_version=_version(if_match))
    except ConflictError as exc:
        return _conflict(charter, subject_id, exc, b"")
    return JSONResponse(_out(item).model_dump())


@router.post("/items/{item_id}/restore", responses=responses(401, 403, 404))
def restore_item(item_id: ItemId, principal: AnyPrincipal, charter: CharterDep) -> ItemOut:
    """Bring a trashed item back."""
    return _out(charter.cloud.restore(_subject(principal), item_id))


@router.get("/changes", responses=responses(401, 403, 422))
def changes(
    principal: AnyPrincipal,
    charter: CharterDep,
    since: Annotated[str, Query(pattern=r"^[0-9]{1,18}$", description="A token, or 0.")] = "0",
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> ChangesOut:
    """The changes after a token, oldest first (deletions included)."""
    found, token, more = charter.cloud.changes(_subject(principal), int(since), limit)
    return ChangesOut(changes=[_out(i) for i in found], token=str(token), more=more)


@router.get("/categories", responses=responses(401, 403))
def categories(principal: AnyPrincipal, charter: CharterDep) -> list[CategoryOut]:
    """Each category with its sync switch."""
    found = charter.cloud.sync_settings(_subject(principal))
    return [
        CategoryOut(category=k, sync=v, deletes_when_off=CATEGORIES[k].delete_on_sync_off)
        for k, v in found.items()
    ]


@router.put("/categories/{category}", responses=responses(401, 403, 422))
def switch_category(
    category: CategoryName, body: SyncIn, principal: AnyPrincipal, charter: CharterDep
) -> CategoryOut:
    """Switch a category's sync on or off; for Wi-Fi and frequent phrases, off deletes their
    cloud copy at once."""
    deleted = charter.cloud.set_sync(_subject(principal), category, body.sync)
    return CategoryOut(
        category=category,
        sync=body.sync,
        deletes_when_off=CATEGORIES[category].delete_on_sync_off,
        deleted=deleted,
    )


@router.get("/trash", responses=responses(401, 403))
def trash(principal: AnyPrincipal, charter: CharterDep) -> list[ItemOut]:
    """The trashed items, soonest destroyed first."""
    return [_out(i) for i in charter.cloud.trash(_subject(principal))]


@router.delete("/trash", responses=responses(401, 403))
def empty_trash(principal: AnyPrincipal, charter: CharterDep) -> dict[str, int]:
    """Destroy every trashed item now."""
    return {"destroyed": charter.cloud.empty_trash(_subject(principal))}


@router.get("/usage", responses=responses(401, 403))
def usage(principal: AnyPrincipal, charter: CharterDep) -> UsageOut:
    """The plan, its quota and trash window, and the bytes used (sealed copies behind
    shared links included, also shown apart)."""
    subject_id = _subject(principal)
    plan, used = charter.cloud.usage(subject_id)
    return UsageOut(
        plan=plan.name,
        quota_bytes=plan.quota_bytes,
        used_bytes=used,
        trash_days=plan.trash_days,
        shared_copies_bytes=charter.cloud.sealed_links.used(subject_id),
    )


def _upload_out(upload: Upload) -> UploadOut:
    return UploadOut(
        id=upload.id,
        category=upload.category,
        size=upload.size,
        received=upload.received,
        expires_at=upload.expires_at,
        chunk_bytes=CHUNK_BYTES,
    )


def _chunk_digest(header: str) -> str:
    """The SHA-256 in a ``Content-Digest: sha-256=:<base64>:`` header (RFC 9530), as hex."""
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "sha-256" and value.startswith(":") and value.endswith(":"):
            try:
                raw = base64.b64decode(value[1:-1], validate=True)
            except ValueError:
                break
            if len(raw) == 32:
                return raw.hex()
    raise InputError(
        "send the chunk's SHA-256 as Content-Digest: sha-256=:<base64>: (RFC 9530)",
        field="Content-Digest",
    )


@router.post(
    "/{category}/uploads",
    status_code=201,
    responses=responses(401, 403, 422),
    dependencies=DEVICE_SWITCH,
)
def begin_upload(
    category: CategoryName, body: UploadIn, principal: AnyPrincipal, charter: CharterDep
) -> UploadOut:
    """Start a resumable upload of large content: announce its size and SHA-256, then send
    chunks of at most ``chunk_bytes``, each with its own digest, and complete it."""
    upload = charter.cloud.uploads.begin(
        _subject(principal),
        category,
        size=body.size,
        sha256=body.sha256,
        item_id=body.item_id,
        base_version=body.base_version,
    )
    return _upload_out(upload)


@router.get("/uploads/{upload_id}", responses=responses(401, 403, 404))
def upload_status(upload_id: UploadId, principal: AnyPrincipal, charter: CharterDep) -> UploadOut:
    """Where an upload stands: resume from ``received``."""
    return _upload_out(charter.cloud.uploads.status(_subject(principal), upload_id))


@router.put(
    "/uploads/{upload_id}",
    responses=responses(401, 403, 404, 422),
    openapi_extra=OCTET_STREAM_BODY,
)
async def put_chunk(
    request: Request,
    upload_id: UploadId,
    principal: AnyPrincipal,
    charter: CharterDep,
    offset: Annotated[int, Query(ge=0, description="Where this chunk starts.")],
    content_digest: Annotated[str, Header(description="sha-256=:<base64>: of this chunk.")],
) -> UploadOut:
    """Append the chunk that starts at ``offset`` (a chunk whose digest does not match is
    refused and changes nothing)."""
    subject_id = _subject(principal)
    digest = _chunk_digest(content_digest)
    chunk = await request.body()
    upload = await run_in_threadpool(
        lambda: charter.cloud.uploads.put_chunk(
            subject_id, upload_id, offset=offset, chunk=chunk, sha256=digest
        )
    )
    return _upload_out(upload)


@router.post(
    "/uploads/{upload_id}/complete",
    status_code=201,
    responses={**responses(401, 403, 404, 422), **CONFLICT},
)
def complete_upload(upload_id: UploadId, principal: AnyPrincipal, charter: CharterDep) -> Response:
    """Check the whole content's SHA-256 and store it as an item."""
    subject_id = _subject(principal)
    try:
        item = charter.cloud.uploads.complete(subject_id, upload_id)
    except ConflictError as exc:
        return _conflict(charter, subject_id, exc, b"")
    return JSONResponse(_out(item).model_dump(), status_code=201)


def _link_out(link: Link, issuer: str) -> LinkOut:
    return LinkOut(
        id=link.id,
        item_id=link.item_id,
        views=link.views,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        url=f"{issuer}/s/{link.token}" if link.token else None,
    )


@router.post("/items/{item_id}/links", status_code=201, responses=responses(401, 403, 404, 422))
def share_item(
    item_id: ItemId, principal: AnyPrincipal, charter: CharterDep, body: LinkIn | None = None
) -> LinkOut:
    """Share a gallery photo by link: whoever opens it gets the photo without its location or
    other metadata, until it expires or is revoked. The URL is shown this once."""
    link = charter.cloud.links.share(_subject(principal), item_id, days=(body.days if body else 7))
    return _link_out(link, charter.settings.issuer)


@router.get("/links", responses=responses(401, 403))
def list_links(principal: AnyPrincipal, charter: CharterDep) -> list[LinkOut]:
    """The person's shared links with their view counts, newest first."""
    issuer = charter.settings.issuer
    return [_link_out(k, issuer) for k in charter.cloud.links.list(_subject(principal))]


@router.delete("/links/{link_id}", responses=responses(401, 403, 404))
def revoke_link(link_id: LinkId, principal: AnyPrincipal, charter: CharterDep) -> LinkOut:
    """End a link now."""
    link = charter.cloud.links.revoke(_subject(principal), link_id)
    return _link_out(link, charter.settings.issuer)


@shared.get(
    "/s/{token}",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}, "description": "The photo."}, **responses(404)},
)
def open_link(
    token: Annotated[str, Path(pattern=r"^sl_[A-Za-z0-9_-]{20,60}$")], charter: CharterDep
) -> Response:
    """A shared photo, with its location and metadata removed."""
    content, media_type = charter.cloud.links.open(token)
    return Response(
        content,
        media_type=media_type,
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline",
        },
    )


router.include_router(cloud_devices.router)
router.include_router(cloud_sealed_links.router)
shared.include_router(cloud_sealed_links.shared)
