"""
Each item, not a count: the person's own items per service and data type (values decrypted
for them alone, a page at a time, newest first), correcting and deleting one item, and
downloading an item's file.
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError, NotFoundError
from charter.gate.export import count_records
from charter.rights.items import KEPT_WITH_ACCOUNT
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
from charter.web.views import PURPOSE_WORDS

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]
RECORD = r"^[0-9a-f]{32}$"

KIND_WORDS = {
    "keyed_hash": "Kept only as a keyed fingerprint: we can check a value against it, but "
    "nobody, including us, can read it back.",
    "password_hash": "Kept only as a password hash: nobody, including us, can read it back.",
    "unreadable": "No longer readable: its encryption key was destroyed.",
    "empty": "No value is kept for this item.",
}


def _offered(request: Request, user: User, service_id: str) -> str:
    """The service's name; NotFoundError when it is not offered in the person's market."""
    charter = services(request).charter
    service = charter.catalog.services.get(service_id)
    market = charter.gate.subject(user.subject_id).market
    if service is None or not service.markets.includes(market):
        raise NotFoundError("no such service here", field="service")
    return service.name


def _items_url(service_id: str, data_type: str | None = None, cursor: str | None = None) -> str:
    query = {k: v for k, v in (("type", data_type), ("cursor", cursor)) if v}
    return f"/items/{service_id}" + (f"?{urlencode(query)}" if query else "")


@router.get("/items", include_in_schema=False)
def items_overview(request: Request, user: Me) -> Response:
    """Every service offered to the person, with how many of their items it holds."""
    charter = services(request).charter
    subject = charter.gate.subject(user.subject_id)
    counts = count_records(charter.gate, subject)
    rows = [
        (s, counts.get(s.id, 0))
        for s in charter.catalog
        if s.markets.includes(subject.market) and not s.on_device_only
    ]
    return render(request, "items_overview.html", {"title": "My items", "rows": rows})


@router.get("/items/{service_id}", include_in_schema=False)
def items(
    request: Request,
    user: Me,
    service_id: str,
    type: str = "",
    cursor: str = "",
) -> Response:
    """A page of the person's items of one service (one data type with ``type``)."""
    _offered(request, user, service_id)
    web = services(request)
    view = web.rights.items(
        user.subject_id, service_id, data_type=type[:64] or None, cursor=cursor[:120] or None
    )
    catalog = web.charter.catalog
    return render(
        request,
        "items.html",
        {
            "title": f"My items: {view.name}",
            "view": view,
            "types": [(t, catalog.type_label(t), n) for t, n in sorted(view.counts.items())],
            "total": sum(view.counts.values()),
            "purpose_words": PURPOSE_WORDS,
            "kind_words": KIND_WORDS,
            "next_url": _items_url(service_id, view.data_type, view.next_cursor)
            if view.next_cursor
            else None,
            "first_url": _items_url(service_id, view.data_type) if cursor else None,
            "kept_with_account": service_id in KEPT_WITH_ACCOUNT,
        },
    )


@router.post("/items/{service_id}/{record_id}/correct", include_in_schema=False)
def correct(
    request: Request,
    user: Me,
    service_id: str,
    record_id: str,
    value: Annotated[str, Form(max_length=20_000)],
    structured: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Correct one item (R2): the new value replaces the old, protected the same way."""
    name = _offered(request, user, service_id)
    _record_id(record_id)
    if not value.strip():
        raise InputError("enter the corrected value", field="value")
    new: object = value
    if structured == "yes":
        try:
            new = json.loads(value)
        except ValueError:
            raise InputError(
                "the corrected value must be valid JSON, like the value shown", field="value"
            ) from None
    services(request).rights.correct(user.subject_id, record_id, new)
    web_session(request).say(f"The {name} item was corrected.", "success")
    return redirect(_items_url(service_id) + f"#item-{record_id}")


@router.post("/items/{service_id}/{record_id}/delete", include_in_schema=False)
def delete(
    request: Request,
    user: Me,
    service_id: str,
    record_id: str,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Delete one item (R3 for one record)."""
    name = _offered(request, user, service_id)
    _record_id(record_id)
    if confirm != "yes":
        raise InputError("tick the box to confirm first", field="confirm")
    services(request).rights.delete_item(user.subject_id, record_id)
    web_session(request).say(f"The {name} item was deleted.", "success")
    return redirect(_items_url(service_id))


@router.get("/items/{service_id}/{record_id}/file", include_in_schema=False)
def item_file(request: Request, user: Me, service_id: str, record_id: str) -> Response:
    """Download the file of one item (decrypted for the person)."""
    _offered(request, user, service_id)
    _record_id(record_id)
    name, data = services(request).rights.item_file(user.subject_id, record_id)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _record_id(record_id: str) -> None:
    if len(record_id) != 32 or any(c not in "0123456789abcdef" for c in record_id):
        raise NotFoundError("no such item", field="record_id")
