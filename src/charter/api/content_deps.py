"""
Dependencies of the content services' routers (themes, App Vault, Get Apps): browsing needs
no credential, so a caller may be no one; the market is then named by the client
(``?market=``), and for a person it is always their own market.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials

from charter.api.deps import (
    CredentialsDep,
    Principal,
    authenticate,
    get_charter,
    service_scheme,
    user_scheme,
)
from charter.errors import InputError, RefusedError
from charter.services.offering import known_market


async def maybe_principal(
    request: Request,
    credentials: CredentialsDep,
    service: Annotated[HTTPAuthorizationCredentials | None, Depends(service_scheme)],
    user: Annotated[HTTPAuthorizationCredentials | None, Depends(user_scheme)],
) -> Principal | None:
    """The caller when a credential is sent (checked as usual), ``None`` when none is."""
    if service is None and user is None:
        return None
    return await authenticate(request, credentials, service, user)


MaybePrincipal = Annotated[Principal | None, Depends(maybe_principal)]

OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}
"""``openapi_extra`` of a route that also answers without a credential: FastAPI appends the
empty requirement to the bearer schemes, so the published document says authentication is
optional there."""


def person(principal: Principal | None) -> str | None:
    """The calling person's subject id (``None`` for no one or a service)."""
    return principal.subject_id if principal is not None else None


def require_person(principal: Principal | None) -> str:
    """
    Raises:
        RefusedError: ``login_required``: the call needs a person's token.
    """
    if principal is None or principal.subject_id is None:
        raise RefusedError(
            "this needs a signed-in person: call with their access token", code="login_required"
        )
    return principal.subject_id


def market_for(request: Request, principal: Principal | None, market: str | None) -> str:
    """
    The market a call is about: a person's own, otherwise the ``market`` the client names.

    Raises:
        InputError: no market named for an anonymous call, or an unknown one.
    """
    charter = get_charter(request)
    subject_id = person(principal)
    if subject_id is not None:
        return charter.gate.subject(subject_id).market
    if market is None:
        raise InputError("name the market to browse, e.g. ?market=in (or sign in)", field="market")
    return known_market(frozenset(charter.catalog.markets), market)


MarketQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z]{2}$",
        description="The market to browse without signing in (a person's own is used for them).",
    ),
]
