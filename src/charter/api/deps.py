"""
Dependencies shared by the routers: the Charter object, authentication and subject access.

Two kinds of bearer credential (``Authorization: Bearer <credential>``):

- ``ck_<id>_<secret>``: a **service credential**; the caller is that catalog service and acts
  as ``service:<id>``.
- ``at_...``: an **account session** access token (``POST /v1/account/login``); the caller is
  that account's subject and acts as ``subject``.
- ``ut_<id>_<secret>``: an interim **user token** issued by operators' tooling for a subject
  (pseudonymous subjects have no account to sign in with); it acts like a session.

A missing or bad credential is a 401 with ``WWW-Authenticate: Bearer realm="charter"``.
A user token used on another subject's routes gets the same 404 as a subject that does not
exist, so tokens cannot probe which ids exist. A user token on a service-only route is 403.

Subject-scoped routes also honour Global Privacy Control: ``Sec-GPC: 1`` (exactly ``1``)
opts the subject out of personalized ads before the route runs (:func:`subject_access`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from charter.app import Charter
from charter.errors import AuthError, NotFoundError, RefusedError
from charter.services.credentials import API_KEY_PREFIX, USER_TOKEN_PREFIX, Credentials

SUBJECT_ID_PATTERN = r"^s_[0-9a-f]{32}$"
"""Subject ids are ``s_`` and 128 random bits in hex (random, not personal)."""
_SUBJECT_ID = re.compile(SUBJECT_ID_PATTERN)
_SUBJECT_ID_TEXT = "A subject id (`s_` and 32 hex digits)."
_SUBJECT_ID_EXAMPLE = "s_3f9c0a7be2d14c6f8a51e0d2b7c4a913"

service_scheme = HTTPBearer(
    scheme_name="ServiceCredential",
    bearerFormat="ck_<id>_<secret>",
    description=("A service API key; the caller acts as that catalog service."),
    auto_error=False,
)
user_scheme = HTTPBearer(
    scheme_name="UserToken",
    bearerFormat="ut_<id>_<secret>",
    description="An interim user token acting for one subject (expires, 24 h by default).",
    auto_error=False,
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a service (``service`` set) or a subject (``subject_id`` set)."""

    service: str | None = None
    subject_id: str | None = None

    @property
    def actor(self) -> str:
        """The actor name recorded in history and the audit log."""
        return f"service:{self.service}" if self.service is not None else "subject"


def get_charter(request: Request) -> Charter:
    """The Charter object the app was created with."""
    charter: Charter = request.app.state.charter
    return charter


def get_credentials(request: Request) -> Credentials:
    """The credentials service of the app's deployment."""
    return get_charter(request).credentials


async def _charter(request: Request) -> Charter:
    # async: FastAPI runs a plain ``def`` dependency on a worker thread, a hand-off that
    # costs more than this attribute read
    return get_charter(request)


async def _credentials(request: Request) -> Credentials:
    return get_charter(request).credentials


CharterDep = Annotated[Charter, Depends(_charter)]
CredentialsDep = Annotated[Credentials, Depends(_credentials)]


def reads_inline(request: Request) -> bool:
    """
    Whether short reads (a credential, a subject's status or switches) run on the event
    loop: yes when every database of the deployment is a local SQLite file (a point read
    takes microseconds and WAL readers never wait for writers: cheaper than handing the
    request to a worker thread); no over a network (PostgreSQL), where they run on a worker
    thread so the event loop never waits on the network.
    """
    inline: bool | None = getattr(request.app.state, "reads_inline", None)
    if inline is None:
        charter = get_charter(request)
        settings = charter.settings
        urls = [settings.control_database_url()]
        urls += [settings.region_url(region) for region in charter.stores.regions]
        inline = request.app.state.reads_inline = all(u.startswith("sqlite") for u in urls)
    return inline


SESSION_PREFIX = "at_"
"""Access tokens of account sessions (charter.services.account)."""


def _bearer(
    service: HTTPAuthorizationCredentials | None, user: HTTPAuthorizationCredentials | None
) -> str:
    found = service or user
    if found is None:
        raise AuthError(
            "send a credential: Authorization: Bearer ck_... or ut_...", code="unauthorized"
        )
    return found.credentials.strip()


async def authenticate(
    request: Request,
    credentials: CredentialsDep,
    service: Annotated[HTTPAuthorizationCredentials | None, Depends(service_scheme)],
    user: Annotated[HTTPAuthorizationCredentials | None, Depends(user_scheme)],
) -> Principal:
    """
    Any valid credential: a service credential or a user token.

    Raises:
        AuthError: missing, malformed, unknown, revoked or expired.
    """
    return await _verified(request, credentials, _bearer(service, user))


async def _verified(request: Request, credentials: Credentials, token: str) -> Principal:
    """The principal of a bearer token: checked on the event loop when reads are inline
    (except a session's, which may refresh its record), else on a worker thread."""
    if not token.startswith(SESSION_PREFIX) and reads_inline(request):
        return _principal(request, credentials, token)
    return await run_in_threadpool(_principal, request, credentials, token)


def _principal(request: Request, credentials: Credentials, token: str) -> Principal:
    if token.startswith(API_KEY_PREFIX + "_"):
        return Principal(service=credentials.verify_api_key(token))
    if token.startswith(USER_TOKEN_PREFIX + "_"):
        return Principal(subject_id=credentials.verify_user_token(token))
    if token.startswith(SESSION_PREFIX):
        return Principal(subject_id=_session_subject(request, token))
    raise AuthError("malformed credential", code="invalid_token")


def _session_subject(request: Request, token: str) -> str:
    return get_charter(request).accounts.authenticate(token).subject_id


async def require_service(
    request: Request,
    credentials: CredentialsDep,
    service: Annotated[HTTPAuthorizationCredentials | None, Depends(service_scheme)],
) -> Principal:
    """
    A valid service credential.

    Raises:
        AuthError: missing or bad credential.
        RefusedError: a valid user token, on a route only services may call (403).
    """
    token = _bearer(service, None)
    if reads_inline(request):
        return _service_principal(credentials, token)
    return await run_in_threadpool(_service_principal, credentials, token)


def _service_principal(credentials: Credentials, token: str) -> Principal:
    if token.startswith(USER_TOKEN_PREFIX + "_") or token.startswith(SESSION_PREFIX):
        if token.startswith(USER_TOKEN_PREFIX + "_"):
            credentials.verify_user_token(token)
        raise RefusedError("this operation needs a service credential", code="forbidden")
    return Principal(service=credentials.verify_api_key(token))


AnyPrincipal = Annotated[Principal, Depends(authenticate)]
ServicePrincipal = Annotated[Principal, Depends(require_service)]
SubjectId = Annotated[
    str,
    Path(
        description=_SUBJECT_ID_TEXT,
        pattern=SUBJECT_ID_PATTERN,
        examples=[_SUBJECT_ID_EXAMPLE],
    ),
]

SUBJECT_ROUTE_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "subject_id",
            "in": "path",
            "required": True,
            "schema": {
                "type": "string",
                "pattern": SUBJECT_ID_PATTERN,
                "description": _SUBJECT_ID_TEXT,
                "examples": [_SUBJECT_ID_EXAMPLE],
                "title": "Subject Id",
            },
            "description": _SUBJECT_ID_TEXT,
        }
    ],
    "security": [{service_scheme.scheme_name: []}, {user_scheme.scheme_name: []}],
}
"""``openapi_extra`` of a subject route that reads its caller with
:func:`direct_subject_access`: the path parameter and the bearer schemes that
``subject_id: SubjectId`` and ``caller: SubjectCaller`` would have documented."""


def _check_subject(principal: Principal, subject_id: str) -> None:
    if principal.subject_id is not None and principal.subject_id != subject_id:
        raise NotFoundError("no such subject", field="subject_id")


def gpc_signalled(request: Request) -> bool:
    """Whether the request carries exactly ``Sec-GPC: 1`` (once)."""
    return request.headers.getlist("sec-gpc") == ["1"]


def honour_gpc(request: Request, charter: Charter, principal: Principal, subject_id: str) -> None:
    """
    Apply a Global Privacy Control signal: exactly ``Sec-GPC: 1`` opts the subject out of
    personalized ads (recorded as a switch change with source ``gpc``). Any other value,
    including ``1`` with extra characters, is ignored.
    """
    if not gpc_signalled(request):
        return
    try:
        charter.gate.apply_gpc(subject_id, actor=principal.actor)
    except RefusedError:
        return  # an inactive subject has nothing to opt out of; the route answers for it


async def subject_access(
    request: Request,
    service: Annotated[HTTPAuthorizationCredentials | None, Depends(service_scheme)],
    user: Annotated[HTTPAuthorizationCredentials | None, Depends(user_scheme)],
) -> Principal:
    """
    A caller allowed to act on the subject in the path (any service, or that subject's own
    token), with Global Privacy Control applied. It checks the credential as
    :func:`authenticate` does, without depending on it: the subject routes (switch changes
    among them) have two dependencies fewer to solve on every request.

    The route declares the path's ``subject_id`` (:data:`SubjectId`) and answers a malformed
    one with 422, after the credential was checked here (a bad credential is a 401 first).

    Raises:
        AuthError: missing or bad credential.
        NotFoundError: a user token of another subject.
    """
    # a malformed subject id (None here) is left to the route's validation (422)
    principal, _subject_id = await _subject_principal(request, _bearer(service, user))
    return principal


async def _subject_principal(request: Request, token: str) -> tuple[Principal, str | None]:
    """The caller of a subject route and the path's subject id (``None`` when malformed),
    with its access checked and Global Privacy Control applied."""
    charter = get_charter(request)
    principal = await _verified(request, charter.credentials, token)
    subject_id = request.path_params.get("subject_id", "")
    if _SUBJECT_ID.fullmatch(subject_id) is None:
        return principal, None
    _check_subject(principal, subject_id)
    if gpc_signalled(request):  # a switch change: on a worker thread
        await run_in_threadpool(honour_gpc, request, charter, principal, subject_id)
    return principal, subject_id


def bearer_token(request: Request) -> str:
    """The request's bearer credential, read as the two :class:`HTTPBearer` schemes read it
    (``Authorization: Bearer <credential>``, the scheme in any case).

    Raises:
        AuthError: no such header, another scheme, or an empty credential.
    """
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return _bearer(None, None)
    return credential


async def direct_subject_access(request: Request) -> tuple[Principal, str]:
    """
    What a subject route's ``subject_id: SubjectId`` and ``caller: SubjectCaller`` give it,
    for a hot route that declares only the request (:data:`SUBJECT_ROUTE_OPENAPI` documents
    the path parameter and the schemes instead): FastAPI then solves no dependency on every
    request. The same checks in the same order: 401 for the credential, then 422 for a
    malformed subject id, then 404 for another subject's, then GPC.

    Raises:
        AuthError: missing or bad credential.
        RequestValidationError: a malformed subject id (the API's 422, as FastAPI's path
            validation gives it).
        NotFoundError: a user token of another subject.
    """
    principal, subject_id = await _subject_principal(request, bearer_token(request))
    if subject_id is None:
        raise RequestValidationError(
            [
                {
                    "type": "string_pattern_mismatch",
                    "loc": ("path", "subject_id"),
                    "msg": f"String should match pattern '{SUBJECT_ID_PATTERN}'",
                    "ctx": {"pattern": SUBJECT_ID_PATTERN},
                }
            ]
        )
    return principal, subject_id


async def service_subject_access(
    request: Request, charter: CharterDep, principal: ServicePrincipal, subject_id: SubjectId
) -> Principal:
    """A service credential acting on the subject in the path, with GPC applied."""
    if gpc_signalled(request):
        await run_in_threadpool(honour_gpc, request, charter, principal, subject_id)
    return principal


SubjectCaller = Annotated[Principal, Depends(subject_access)]
ServiceSubjectCaller = Annotated[Principal, Depends(service_subject_access)]
