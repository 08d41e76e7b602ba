"""
Where my data is kept and who is responsible: the person's region, its storage providers
and locations and, where the catalog names them, the controller, the processor and the
transfer mechanism.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from charter.web._routing import WebRoute
from charter.web.deps import User, csrf_protect, current_user, render, services

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]


@router.get("/where", include_in_schema=False)
def where(request: Request, user: Me) -> Response:
    """Where the person's data is kept and who is responsible for it."""
    place = services(request).rights.residence(user.subject_id)
    return render(request, "where.html", {"title": "Where my data is kept", "place": place})
