"""
Who touched my data: the person's activity from the audit log (collects, reads by service
and purpose, exports, switch changes, staff actions on their requests), in plain words,
newest first, filterable by service.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from charter.web._routing import WebRoute
from charter.web.deps import User, csrf_protect, current_user, render, services

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]


@router.get("/activity", include_in_schema=False)
def activity(request: Request, user: Me, service: str = "", cursor: str = "") -> Response:
    """A page of the person's activity (one service's with ``service``)."""
    web = services(request)
    charter = web.charter
    market = charter.gate.subject(user.subject_id).market
    offered = [s for s in charter.catalog if s.markets.includes(market) and not s.on_device_only]
    chosen = service[:64] if service in {s.id for s in offered} else None
    page = web.rights.activity.page(user.subject_id, service=chosen, cursor=cursor[:80] or None)

    def url(next_cursor: str | None) -> str:
        query = {k: v for k, v in (("service", chosen), ("cursor", next_cursor)) if v}
        return "/activity" + (f"?{urlencode(query)}" if query else "")

    return render(
        request,
        "activity.html",
        {
            "title": "Who touched my data",
            "page": page,
            "services": offered,
            "chosen": chosen,
            "next_url": url(page.next_cursor) if page.next_cursor else None,
            "first_url": url(None) if cursor else None,
        },
    )
