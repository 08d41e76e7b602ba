"""
My cloud: the person's synced items by category, each downloadable and deletable; the
trash with restore and "empty now"; the plan, quota and trash window; shared links; their
devices, each removable once the person confirms what removal means.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from charter.errors import InputError, NotFoundError, RefusedError
from charter.services.cloud import CATEGORIES
from charter.services.cloud.protection import STATEMENT
from charter.web._routing import WebRoute
from charter.web.deps import (
    User,
    csrf_protect,
    current_user,
    redirect,
    render,
    services,
    web_session,
)

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]

CATEGORY_WORDS = {
    "gallery": "Gallery",
    "messages": "Messages",
    "contacts": "Contacts",
    "call_history": "Call history",
    "notes": "Notes",
    "recordings": "Recordings",
    "calendar": "Calendar",
    "browser": "Browser",
    "wifi": "Wi-Fi",
    "home_screen": "Home screen",
    "phrases": "Frequent phrases",
}


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@router.get("/cloud", include_in_schema=False)
def my_cloud(
    request: Request,
    user: Me,
    category: Annotated[str | None, Query(pattern=r"^[a-z_]{1,20}$")] = None,
) -> Response:
    """The items synced to the cloud, by category, with the trash and the plan."""
    cloud = services(request).charter.cloud
    subject = user.subject_id
    found, _token, _more = cloud.changes(subject, 0, 1000)
    live = [i for i in found if i.state == "live"]
    counts = {name: sum(1 for i in live if i.category == name) for name in CATEGORIES}
    chosen = category if category in CATEGORIES else None
    shown = sorted(
        (i for i in live if chosen is None or i.category == chosen),
        key=lambda i: i.updated_at,
        reverse=True,
    )
    plan, used = cloud.usage(subject)
    protected = sorted(cloud.protected_categories(subject))
    return render(
        request,
        "cloud.html",
        {
            "title": "My cloud",
            "counts": counts,
            "words": CATEGORY_WORDS,
            "chosen": chosen,
            "items": shown,
            "trash": cloud.trash(subject),
            "plan": plan,
            "used": _size(used),
            "shared_copies": cloud.sealed_links.used(subject),
            "quota": _size(plan.quota_bytes),
            "links": cloud.links.list(subject),
            "size": _size,
            "purchases": cloud.purchases(subject),
            "protected": protected,
            "protected_words": ", ".join(CATEGORY_WORDS[n] for n in protected),
            "statement": STATEMENT,
            "devices": cloud.devices.all(subject),
        },
    )


@router.get("/cloud/items/{item_id}", include_in_schema=False)
def download(request: Request, user: Me, item_id: str) -> Response:
    """Download one item (not one under advanced protection: the web holds no key)."""
    cloud = services(request).charter.cloud
    item, content = cloud.content(user.subject_id, item_id)
    if item.category in cloud.protected_categories(user.subject_id):
        raise RefusedError(
            "this item is under advanced protection: it is locked on the web; open it on "
            "your device",
            code="advanced_protection",
        )
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{item.category}-{item.id[3:11]}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/cloud/items/{item_id}/delete", include_in_schema=False)
def delete(request: Request, user: Me, item_id: str) -> Response:
    """Delete one item (to the trash, or at once)."""
    item = services(request).charter.cloud.delete(user.subject_id, item_id)
    web_session(request).say(
        "Moved to the trash." if item.state == "trashed" else "Deleted.", "success"
    )
    return redirect(f"/cloud?category={item.category}")


@router.post("/cloud/items/{item_id}/restore", include_in_schema=False)
def restore(request: Request, user: Me, item_id: str) -> Response:
    """Bring a trashed item back."""
    services(request).charter.cloud.restore(user.subject_id, item_id)
    web_session(request).say("Restored.", "success")
    return redirect("/cloud#trash")


@router.post("/cloud/trash/empty", include_in_schema=False)
def empty_trash(request: Request, user: Me) -> Response:
    """Destroy everything in the trash now."""
    n = services(request).charter.cloud.empty_trash(user.subject_id)
    web_session(request).say(
        f"Emptied the trash: {n} item{'s' if n != 1 else ''} destroyed.", "success"
    )
    return redirect("/cloud#trash")


@router.post("/cloud/links/{link_id}/revoke", include_in_schema=False)
def revoke_link(request: Request, user: Me, link_id: str) -> Response:
    """End a shared link now."""
    services(request).charter.cloud.links.revoke(user.subject_id, link_id)
    web_session(request).say("The link no longer works.", "success")
    return redirect("/cloud#links")


@router.post("/cloud/devices/{device_id}/remove", include_in_schema=False)
def remove_device(
    request: Request,
    user: Me,
    device_id: Annotated[str, Path(pattern=r"^dv_[0-9a-f]{32}$")],
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Remove a device once the person confirmed: it is forgotten with every key wrapped to
    it, and the protected categories whose key it held are marked for a new key, which a
    remaining device makes (``ProtectedCloud.rotate_due``)."""
    if confirm != "yes":
        raise InputError("tick the box to confirm removing this device", field="confirm")
    cloud = services(request).charter.cloud
    cloud.devices.remove(user.subject_id, device_id)
    due = sorted(
        CATEGORY_WORDS[p.category]
        for p in cloud.protection.status(user.subject_id).values()
        if p.state == "rotate"
    )
    web_session(request).say(
        f"Device {device_id[3:9]} removed. "
        + (
            f"Your other devices give {', '.join(due)} new keys when they next sync; the "
            "removed device cannot open anything stored after that."
            if due
            else "It holds no key here any more."
        ),
        "success",
    )
    return redirect("/cloud#devices")


def _session_ref(request: Request) -> str:
    ref = web_session(request).account_session
    if not ref:
        raise RefusedError("sign in again to open protected items here", code="sign_in_required")
    return ref


@router.post("/cloud/unlock", include_in_schema=False)
def ask_unlock(
    request: Request,
    user: Me,
    public_key: Annotated[str, Form(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    """This browser asks a device for the keys of protected items: the page's script made
    an ephemeral key pair and sends the public key (the private key stays in the page)."""
    found = services(request).charter.cloud.web_unlocks.ask(
        user.subject_id, _session_ref(request), public_key
    )
    return JSONResponse(
        {"id": found.id, "fingerprint": found.fingerprint, "expires_at": found.expires_at},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/cloud/unlock/{unlock_id}", include_in_schema=False)
def unlock_state(
    request: Request, user: Me, unlock_id: Annotated[str, Path(pattern=r"^wu_[0-9a-f]{32}$")]
) -> Response:
    """Whether a device approved this session yet, and then the keys wrapped to the page's
    key (only to the session that asked, until it ends or the approval expires)."""
    found = services(request).charter.cloud.web_unlocks.get(
        user.subject_id, unlock_id, _session_ref(request)
    )
    wrapped = {n: [base64.b64encode(b).decode() for b in bs] for n, bs in found.wrapped.items()}
    return JSONResponse(
        {"approved": found.approved, "wrapped": wrapped, "expires_at": found.expires_at},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/cloud/items/{item_id}/sealed", include_in_schema=False)
def sealed_item(request: Request, user: Me, item_id: str) -> Response:
    """A protected item's envelope (ciphertext), for the page's script to open with keys a
    device gave this session."""
    cloud = services(request).charter.cloud
    item, content = cloud.content(user.subject_id, item_id)
    if item.category not in cloud.protected_categories(user.subject_id):
        raise NotFoundError("no such protected item", field="item_id")
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
