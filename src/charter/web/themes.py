"""
Themes in the Privacy Center: on the first visit, the choice about personalised
recommendations with the terms (recorded as consent); then the store with favourites and
purchases, and suggestions drawn only from what the choice allows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.services.offering import service_refusal
from charter.services.themes import RESOURCES
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


@router.get("/themes", include_in_schema=False)
def store(request: Request, user: Me) -> Response:
    """The first-run choice, or the store."""
    charter = services(request).charter
    subject = user.subject_id
    market = charter.gate.subject(subject).market
    why = service_refusal(charter.compiled, "themes", market)
    context: dict[str, object] = {"title": "Themes", "unavailable": why}
    if why is None:
        themes = charter.themes
        first = themes.first_run(subject)
        context["first"] = first
        if first.asked:
            context.update(
                {
                    "resources": RESOURCES,
                    "favorites": {r.id for r in themes.favorites(subject)},
                    "purchases": {r.id for r in themes.purchases(subject)},
                    "suggestions": themes.recommendations(market, subject),
                }
            )
    return render(request, "themes.html", context)


@router.post("/themes/first-run", include_in_schema=False)
def choose(
    request: Request,
    user: Me,
    accept_terms: Annotated[str | None, Form(pattern="^yes$")] = None,
    personalized: Annotated[str | None, Form(pattern="^yes$")] = None,
) -> Response:
    """Record the first-run answer."""
    services(request).charter.themes.choose(
        user.subject_id, personalized=personalized == "yes", accept_terms=accept_terms == "yes"
    )
    web_session(request).say("Saved. You can change this later in the app's settings.", "success")
    return redirect("/themes")


@router.post("/themes/{resource_id}/favorite", include_in_schema=False)
def favorite(request: Request, user: Me, resource_id: str) -> Response:
    """Add to favourites, or remove when already there."""
    themes = services(request).charter.themes
    if not themes.unfavorite(user.subject_id, resource_id):
        themes.favorite(user.subject_id, resource_id)
    return redirect("/themes#store")


@router.post("/themes/{resource_id}/purchase", include_in_schema=False)
def purchase(request: Request, user: Me, resource_id: str) -> Response:
    """Buy or download a resource."""
    found = services(request).charter.themes.purchase(user.subject_id, resource_id)
    web_session(request).say(f"{found.name} is yours.", "success")
    return redirect("/themes#store")
