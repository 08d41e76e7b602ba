"""
Mi Video: what the app collects (the catalog's functions and data types), the mode — local
features only (the default: nothing but analytics leaves the phone, and the history of local
videos never does) or online — whether personalised trending is offered in the person's
market (its switch shown only there, with the service's other switches), and how the advertising ID handed to short-video
partners is hashed per partner.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError
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
Choice = Annotated[str, Form(max_length=3)]
PERSONALIZATION = "video.personalization"
AUTHORIZATION = "video.authorization"


def _on(value: str, field: str) -> bool:
    if value not in ("on", "off"):
        raise InputError(f"{field}: on or off", field=field)
    return value == "on"


@router.get("/video", include_in_schema=False)
def my_video(request: Request, user: Me) -> Response:
    """Mi Video: what it collects, local features only or online, personalised trending."""
    charter = services(request).charter
    subject = user.subject_id
    market = charter.gate.subject(subject).market
    service = charter.catalog.services["video"]
    names = charter.catalog.markets
    switches = charter.gate.switches(subject)
    personal_markets = sorted(charter.video.personalized_markets())
    context: dict[str, object] = {
        "title": "Mi Video",
        "offered": service_refusal(charter.gate.compiled, "video", market) is None,
        "market": names[market].name if market in names else market.upper(),
        "functions": service.functions,
        "inventory": service.inventory,
        "online": charter.video.online(subject),
        "allowed": bool(switches.get(AUTHORIZATION)),
        "personal_here": market in personal_markets,
        "personal_markets": [names[m].name if m in names else m for m in personal_markets],
        "personalized": bool(switches.get(PERSONALIZATION)),
        "switches": service_switches(charter.compiled, "video", switches, market),
    }
    return render(request, "video.html", context)


@router.post("/video/mode", include_in_schema=False)
def set_mode(request: Request, user: Me, online: Choice) -> Response:
    """Online features on, or local features only (what is kept online still needs the
    "Use this service" switch)."""
    on = _on(online, "online")
    charter = services(request).charter
    charter.video.set_online(user.subject_id, on)
    web_session(request).say(
        "Online features are on." if on else "Mi Video now uses local features only.", "success"
    )
    return redirect("/video")
