"""
Web sessions a device approves (``/v1/cloud/unlocks``, see
:mod:`charter.services.cloud.web_unlocks`) and shared photo links under advanced protection (see :mod:`charter.services.cloud.sealed_links`):
``POST /v1/cloud/items/{id}/sealed-links`` takes the copy a device stripped and sealed;
``/s/p/{token}`` is the link's page, whose script (``/static/shared-photo.js``) fetches the
ciphertext from ``/s/p/{token}/sealed`` and decrypts it with the key in the URL fragment.
Part of the cloud routers (:mod:`charter.api.routers.cloud` includes them).
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from charter.api.cloud_models import LinkOut
from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.api.media import OCTET_STREAM_BODY
from charter.api.routers.cloud_devices import CallerDevice, CallerProof, subject_of
from charter.errors import InputError
from charter.services.cloud.web_unlocks import Unlock

router = APIRouter()
shared = APIRouter()

ItemId = Annotated[str, Path(pattern=r"^ci_[0-9a-f]{32}$", description="A cloud item id.")]
Token = Annotated[str, Path(pattern=r"^sl_[A-Za-z0-9_-]{20,60}$")]
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "img-src blob:; style-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>A shared photo</title>
</head>
<body>
<main id="shared-photo" data-state="opening">
<h1>A shared photo</h1>
<p id="shared-photo-status" role="status">Opening the photo in your browser&hellip;</p>
<img id="shared-photo-image" alt="The shared photo" hidden>
<p>The photo was encrypted on its owner's device; the key is in the link and never reaches
our server. Its location and other details were removed before it was shared.</p>
</main>
<script src="/static/shared-photo.js"></script>
</body>
</html>
"""


@router.post(
    "/items/{item_id}/sealed-links",
    status_code=201,
    responses=responses(401, 403, 404, 422),
    openapi_extra=OCTET_STREAM_BODY,
)
async def share_sealed(
    request: Request,
    item_id: ItemId,
    principal: AnyPrincipal,
    charter: CharterDep,
    days: Annotated[int, Query(ge=1, le=30)] = 7,
) -> LinkOut:
    """Share a photo of a protected gallery: the body is the photo stripped of its location
    and metadata and sealed on the device (``SP 01``); the server keeps only that
    ciphertext. The answer's ``url`` gets the photo key as its fragment (``#k=…``) on the
    device, never here."""
    subject_id = subject_of(principal)
    sealed = await request.body()
    link = await run_in_threadpool(
        charter.cloud.sealed_links.share, subject_id, item_id, sealed, days=days
    )
    return LinkOut(
        id=link.id,
        item_id=link.item_id,
        views=link.views,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        url=f"{charter.settings.issuer}/s/p/{link.token}",
    )


@shared.get(
    "/s/p/{token}",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The page."}, **responses(404)},
)
def sealed_page(token: Token, charter: CharterDep) -> Response:
    """The page of a sealed link: its script decrypts the photo in the browser."""
    charter.cloud.sealed_links.check(token)
    return HTMLResponse(PAGE, headers=PAGE_HEADERS)


@shared.get(
    "/s/p/{token}/sealed",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "Ciphertext."},
        **responses(404),
    },
)
def sealed_copy(token: Token, charter: CharterDep) -> Response:
    """The sealed copy (ciphertext only; the view is counted)."""
    return Response(
        charter.cloud.sealed_links.open(token),
        media_type="application/octet-stream",
        headers={**PAGE_HEADERS, "Content-Security-Policy": "default-src 'none'; sandbox"},
    )


class UnlockOut(BaseModel):
    """A web session asking to open protected items."""

    id: str
    public_key: str = Field(description="The browser's ephemeral X25519 key, hex.")
    fingerprint: str = Field(description="Twelve digits the page shows: compare them.")
    approved: bool
    created_at: int
    expires_at: int


class UnlockIn(BaseModel):
    """The category keys wrapped to the session's key (CB 01, base64), per category."""

    model_config = ConfigDict(extra="forbid")

    wrapped: dict[str, list[str]] = Field(min_length=1, max_length=20)


def _unlock_out(u: Unlock) -> UnlockOut:
    return UnlockOut(
        id=u.id,
        public_key=u.public_key,
        fingerprint=u.fingerprint,
        approved=u.approved,
        created_at=u.created_at,
        expires_at=u.expires_at,
    )


@router.get("/unlocks", responses=responses(401, 403))
def pending_unlocks(principal: AnyPrincipal, charter: CharterDep) -> list[UnlockOut]:
    """Web sessions asking to open protected items, waiting for a device."""
    return [_unlock_out(u) for u in charter.cloud.web_unlocks.pending(subject_of(principal))]


@router.post("/unlocks/{unlock_id}", responses=responses(401, 403, 404, 422))
def approve_unlock(
    unlock_id: Annotated[str, Path(pattern=r"^wu_[0-9a-f]{32}$")],
    body: UnlockIn,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> UnlockOut:
    """An approved device lets a web session open protected items: the keys wrapped to
    the session's ephemeral key (only an approved device: ``device_not_approved``)."""
    subject_id = subject_of(principal)
    who = charter.cloud.keys.approved_device(subject_id, caller, proof)
    try:
        wrapped = {
            name: [base64.b64decode(b, validate=True) for b in blobs]
            for name, blobs in body.wrapped.items()
        }
    except ValueError:
        raise InputError("the wraps are base64", field="wrapped") from None
    return _unlock_out(charter.cloud.web_unlocks.approve(subject_id, unlock_id, who, wrapped))
