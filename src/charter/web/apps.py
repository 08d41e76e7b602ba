"""
Get Apps in the Privacy Center: the store of the person's market (or why there is none), the
service's switches (no personalisation switch where personalised recommendations are not
offered, e.g. Spain), installs, reviews as others see them, one's own reviews, and the Points
Mall where it exists (India).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import RefusedError
from charter.services.get_apps import APPS
from charter.services.offering import service_refusal
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
from charter.web.views import service_switches

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]
SERVICE = "get_apps"


@router.get("/apps", include_in_schema=False)
def store(request: Request, user: Me) -> Response:
    """The person's Get Apps."""
    charter = services(request).charter
    subject = user.subject_id
    market = charter.gate.subject(subject).market
    why = service_refusal(charter.compiled, SERVICE, market)
    context: dict[str, object] = {"title": "Get Apps", "unavailable": why}
    if why is None:
        shop = charter.get_apps
        switches = charter.gate.switches(subject)
        offered = shop.personalization_offered(market)
        authorized = bool(switches.get(f"{SERVICE}.authorization"))
        suggestions = None
        if offered and authorized:
            suggestions = shop.recommendations(subject)
        context.update(
            {
                "apps": APPS,
                "switches": service_switches(charter.compiled, SERVICE, switches, market),
                "personalization_offered": offered,
                "authorized": authorized,
                "installed": shop.installed(subject) if authorized else [],
                "mine": shop.reviews.mine(subject) if authorized else [],
                "page": shop.review_page(APPS[0].id, market, viewer=subject),
                "points": shop.points(subject) if shop.points_offered(market) else None,
                "suggestions": suggestions,
            }
        )
    return render(request, "apps.html", context)


@router.post("/apps/{app_id}/install", include_in_schema=False)
def install(request: Request, user: Me, app_id: str) -> Response:
    """Install an app."""
    found = services(request).charter.get_apps.install(user.subject_id, app_id)
    web_session(request).say(f"{found.name} installed.", "success")
    return redirect("/apps#installed")


@router.post("/apps/reviews", include_in_schema=False)
def review(
    request: Request,
    user: Me,
    app_id: Annotated[str, Form(max_length=20)],
    rating: Annotated[int, Form(ge=1, le=5)],
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    nickname: Annotated[str, Form(min_length=1, max_length=32)],
) -> Response:
    """Publish a review."""
    services(request).charter.get_apps.review(
        user.subject_id, app_id, rating=rating, text=text, nickname=nickname
    )
    web_session(request).say("Review published; others see your nickname masked.", "success")
    return redirect("/apps#my-reviews")


@router.post("/apps/reviews/{review_id}/delete", include_in_schema=False)
def delete_review(request: Request, user: Me, review_id: str) -> Response:
    """Delete one's own review."""
    services(request).charter.get_apps.reviews.delete(user.subject_id, review_id)
    web_session(request).say("Review deleted.", "success")
    return redirect("/apps#my-reviews")


@router.post("/apps/points/redeem", include_in_schema=False)
def redeem(request: Request, user: Me, prize: Annotated[str, Form(max_length=30)]) -> Response:
    """Exchange points for a prize."""
    try:
        services(request).charter.get_apps.redeem(user.subject_id, prize)
    except RefusedError as exc:
        web_session(request).say(exc.message, "error")
        return redirect("/apps#points")
    web_session(request).say("Exchanged.", "success")
    return redirect("/apps#points")
