"""
App Vault in the Privacy Center: its switches (authorization, personalised content) and the
News card as the person gets it (tailored by the partner only with personalisation on).
Shortcuts, notes, steps and calendar cards are not here: they live on the phone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from charter.services.offering import service_refusal
from charter.web._routing import WebRoute
from charter.web.deps import User, csrf_protect, current_user, render, services
from charter.web.views import service_switches

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]


@router.get("/vault", include_in_schema=False)
def vault(request: Request, user: Me) -> Response:
    """The person's App Vault choices and News card."""
    charter = services(request).charter
    market = charter.gate.subject(user.subject_id).market
    why = service_refusal(charter.compiled, "app_vault", market)
    context: dict[str, object] = {"title": "App Vault", "unavailable": why}
    if why is None:
        switches = charter.gate.switches(user.subject_id)
        context.update(
            {
                "switches": service_switches(charter.compiled, "app_vault", switches, market),
                "feed": charter.app_vault.news(market, user.subject_id),
            }
        )
    return render(request, "vault.html", context)
