"""
My usage and ads: the person's lifetime privacy budget (spent and left, per purpose, with the
ε each aggregate costs) and their advertising segments, each deletable.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

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


@router.get("/usage", include_in_schema=False)
def my_usage(request: Request, user: Me) -> Response:
    """The privacy budget ledger and the ad segments."""
    charter = services(request).charter
    params = charter.usage.params
    return render(
        request,
        "usage.html",
        {
            "title": "Usage and ads",
            "budget": charter.usage.analytics.spent(user.subject_id),
            "per_query": params.epsilon_per_query,
            "k": params.k_threshold,
            "segments": charter.ads.my_segments(user.subject_id),
            "switches": charter.gate.switches(user.subject_id),
        },
    )


@router.post("/usage/segments/delete", include_in_schema=False)
def delete_segment(
    request: Request, user: Me, segment_id: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    """Delete one segment (or every one, with no id)."""
    ads = services(request).charter.ads
    n = ads.delete_segments(user.subject_id, [segment_id] if segment_id else None)
    web_session(request).say(
        f"Deleted {n} segment{'s' if n != 1 else ''}.", "success" if n else "info"
    )
    return redirect("/usage#segments")
