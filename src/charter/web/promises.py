"""
The promises page (``/promises``, public): every promise of the catalog, service by service,
with a mark that says whether code keeps it, is not kept by code yet, or is a statement about
people or process.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.catalog.promises import STATUS_MARKS, Status, code_marks
from charter.device.promises import ENFORCERS as DEVICE_ENFORCERS
from charter.web._routing import WebRoute
from charter.web.deps import render, services
from charter.web.views import promise_views

router = APIRouter(route_class=WebRoute)


@router.get("/promises", include_in_schema=False)
def promises_page(request: Request) -> Response:
    """Every promise of the catalog with its mark; no sign-in needed."""
    charter = services(request).charter
    catalog = charter.catalog
    marks = code_marks(catalog, charter.enforcers, charter.settings.rule_markets, DEVICE_ENFORCERS)
    groups = [
        (service.name, promise_views(catalog, marks, service.id))
        for service in catalog
        if service.rules
    ]
    tally = {STATUS_MARKS[s]: sum(1 for m in marks.values() if m is s) for s in Status}
    return render(
        request,
        "promises.html",
        {"title": "Our promises", "groups": groups, "tally": tally},
    )
