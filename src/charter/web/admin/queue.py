"""Staff pages: overview, catalog with inventory tables, and the request queue."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from charter.catalog.render import render_catalog
from charter.errors import NotFoundError
from charter.rights.requests import OUTCOMES, RequestState
from charter.web._routing import WebRoute
from charter.web.deps import (
    User,
    csrf_protect,
    current_staff,
    redirect,
    render,
    services,
    web_session,
)
from charter.web.mine import KIND_WORDS

router = APIRouter(prefix="/admin", route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Staff = Annotated[User, Depends(current_staff)]
RID = r"^rq_[0-9a-f]{32}$"


def handle(user: User) -> str:
    """The acting staff member's handle."""
    assert user.staff is not None
    return user.staff.handle


@router.get("", include_in_schema=False)
def overview(request: Request, user: Staff) -> Response:
    """The staff home page: what needs attention."""
    queue = services(request).rights.requests
    return render(
        request,
        "admin/overview.html",
        {
            "title": "Staff overview",
            "open": len(queue.queue()),
            "alarms": queue.alarms(),
            "overdue": len(queue.overdue()),
            "now": services(request).charter.clock(),
            "kind_words": {k.value: w for k, w in KIND_WORDS.items()},
            "service_names": {s.id: s.name for s in services(request).charter.catalog},
        },
    )


@router.get("/catalog", include_in_schema=False)
def catalog(request: Request, user: Staff) -> Response:
    """Every service of the catalog."""
    cat = services(request).charter.catalog
    return render(
        request, "admin/catalog.html", {"title": "Catalog", "services": list(cat), "info": cat.info}
    )


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
_HEADER = re.compile(r"<header class=\"cover\">.*?</header>", re.S)


@router.get("/catalog/{service_id}", include_in_schema=False)
def catalog_service(request: Request, user: Staff, service_id: str) -> Response:
    """One service's white-paper section, as the HTML renderer produces it."""
    cat = services(request).charter.catalog
    service = cat.services.get(service_id)
    if service is None:
        raise NotFoundError("no such service in the catalog", field="service")
    document = render_catalog(cat, "html", service=service_id).decode("utf-8")
    found = _BODY.search(document)
    body = _HEADER.sub("", found.group(1) if found else "", count=1)
    # The renderer autoescapes every catalog value; its page is trusted like a template.
    return render(
        request,
        "admin/catalog_service.html",
        {"title": f"Catalog: {service.name}", "service": service, "paper": Markup(body)},  # noqa: S704
    )


@router.get("/requests", include_in_schema=False)
def request_queue(request: Request, user: Staff, state: str = "") -> Response:
    """The queue by deadline, soonest first (closed ones on demand)."""
    queue = services(request).rights.requests
    closed = state == "closed"
    items = queue.queue(state=RequestState.CLOSED) if closed else queue.queue()
    return render(
        request,
        "admin/requests.html",
        {
            "title": "Request queue",
            "items": items,
            "state": state,
            "now": services(request).charter.clock(),
            "kind_words": {k.value: w for k, w in KIND_WORDS.items()},
            "service_names": {s.id: s.name for s in services(request).charter.catalog},
        },
    )


@router.get("/requests/{request_id}", include_in_schema=False)
def request_detail(request: Request, user: Staff, request_id: str) -> Response:
    """One request: its history, the person's message and the answer."""
    queue = services(request).rights.requests
    if not re.match(RID, request_id):
        raise NotFoundError("no such request", field="request_id")
    item = queue.get(request_id)
    texts = (
        queue.texts(request_id, actor=f"staff:{handle(user)}")
        if item.has_message or item.has_answer
        else {"message": None, "answer": None}
    )
    return render(
        request,
        "admin/request.html",
        {
            "title": f"Request {request_id[:11]}…",
            "item": item,
            "texts": texts,
            "history": queue.history_with_assignees(request_id),
            "outcomes": OUTCOMES,
            "me": handle(user),
            "now": services(request).charter.clock(),
            "kind_words": {k.value: w for k, w in KIND_WORDS.items()},
            "service_names": {s.id: s.name for s in services(request).charter.catalog},
        },
    )


@router.post("/requests/{request_id}/assign", include_in_schema=False)
def assign(
    request: Request, user: Staff, request_id: str, staff: Annotated[str, Form(max_length=60)] = ""
) -> Response:
    """Assign a request (to oneself by default)."""
    services(request).rights.requests.assign(
        request_id, staff.strip() or handle(user), actor=f"staff:{handle(user)}"
    )
    web_session(request).say("Request assigned.", "success")
    return redirect(f"/admin/requests/{request_id}")


@router.post("/requests/{request_id}/answer", include_in_schema=False)
def answer(
    request: Request, user: Staff, request_id: str, text: Annotated[str, Form(max_length=20_000)]
) -> Response:
    """Answer a request (stored for the requester through the gate)."""
    services(request).rights.requests.answer(request_id, handle(user), text)
    web_session(request).say("Answer sent.", "success")
    return redirect(f"/admin/requests/{request_id}")


@router.post("/requests/{request_id}/close", include_in_schema=False)
def close(
    request: Request, user: Staff, request_id: str, outcome: Annotated[str, Form(max_length=30)]
) -> Response:
    """Close a request with its outcome."""
    services(request).rights.requests.close(request_id, f"staff:{handle(user)}", outcome=outcome)
    web_session(request).say("Request closed.", "success")
    return redirect(f"/admin/requests/{request_id}")
