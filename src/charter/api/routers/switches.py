"""
``/v1/subjects/{id}/switches``: read, change and audit a subject's privacy switches.

Who may change what:

- the subject's own **user token** may change any of its switches;
- a **service credential** may change only its own service's switches
  (``<service>.authorization``, ``<service>.personalization``, ``<service>.ads``), e.g. to
  relay a choice made in its app or on the device; system switches (``system.*``) are the
  user's alone (or Global Privacy Control's, see ``Sec-GPC``).

``source`` says where the choice was made: ``user`` (default for user tokens), ``device``
(default for services) or ``first_run``. The history records it with the actor.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import Future
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from starlette.responses import Response

from charter.api.deps import (
    SUBJECT_ROUTE_OPENAPI,
    CharterDep,
    Principal,
    SubjectCaller,
    SubjectId,
    direct_subject_access,
    get_charter,
    reads_inline,
)
from charter.api.errors import responses, validation_response
from charter.api.models import rfc3339
from charter.app import Charter
from charter.errors import InputError, RefusedError

T = TypeVar("T")
router = APIRouter(prefix="/v1/subjects/{subject_id}/switches", tags=["switches"])

SWITCH_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$"
MAX_CHANGES = 100


class SwitchesOut(BaseModel):
    """Every switch of a subject (its own settings over the catalog defaults) and their labels."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "switches": {"cloud.authorization": True, "system.personalized_ads": False},
                    "labels": {
                        "cloud.authorization": "Xiaomi Cloud: authorization",
                        "system.personalized_ads": "Personalized Ads",
                    },
                }
            ]
        }
    )

    switches: dict[str, bool]
    labels: dict[str, str]


class SwitchChanges(BaseModel):
    """Switches to set; keys are listed by ``GET .../switches``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"changes": {"cloud.authorization": False}, "source": "user"}]
        },
    )

    # strict: a consent choice is a JSON true or false, never "yes", "off", 1 or 0
    changes: dict[Annotated[str, Field(pattern=SWITCH_KEY_PATTERN)], StrictBool] = Field(
        min_length=1, max_length=MAX_CHANGES
    )
    source: Literal["user", "device", "first_run"] | None = Field(
        None,
        description="Where the choice was made; default `user` (user token) or `device` (service).",
    )


_OPENAPI: dict[str, Any] = {
    **SUBJECT_ROUTE_OPENAPI,
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SwitchChanges"}}},
    },
}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "SwitchChanges": SwitchChanges.model_json_schema(ref_template="#/components/schemas/{model}")
}
"""The request body's schema, for the OpenAPI document's components (the route reads the
body itself: orjson for a well-formed body, the model only for one it refuses)."""
_SWITCH_KEY = re.compile(SWITCH_KEY_PATTERN)
_SOURCES = frozenset(("user", "device", "first_run"))
_BODY_KEYS = frozenset(SwitchChanges.model_fields)


def fast_changes(raw: bytes) -> tuple[dict[str, bool], str | None] | None:
    """The changes and source of a body :class:`SwitchChanges` accepts, or ``None`` for any
    body it might refuse (then the caller validates with pydantic for the exact errors).
    Accepts nothing pydantic refuses: the same keys, types, pattern and bounds."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or not doc.keys() <= _BODY_KEYS:
        return None
    changes = doc.get("changes")
    source = doc.get("source")
    if type(changes) is not dict or not 1 <= len(changes) <= MAX_CHANGES:
        return None
    if source is not None and (type(source) is not str or source not in _SOURCES):
        return None
    for key, value in changes.items():
        if type(value) is not bool or _SWITCH_KEY.fullmatch(key) is None:
            return None
    return changes, source


class SwitchChangeOut(BaseModel):
    """One change in a subject's switch history."""

    key: str
    value: bool
    changed_at: str = Field(description="RFC 3339 UTC time.")
    source: str = Field(description="user | device | first_run | gpc | admin | withdrawal.")
    actor: str = Field(description="`subject`, `service:<id>` or `admin`.")


class SwitchHistoryOut(BaseModel):
    """Every switch change of a subject, oldest first."""

    history: list[SwitchChangeOut]


def _view(charter: Charter, switches: dict[str, bool]) -> Response:
    """The :class:`SwitchesOut` body, serialised once (the hot path of a switch change)."""
    labels = charter.compiled.switch_labels
    body = {"switches": switches, "labels": {k: labels.get(k, k) for k in switches}}
    return Response(orjson.dumps(body), media_type="application/json")


def _authorise(charter: Charter, caller: Principal, changes: dict[str, bool]) -> None:
    known = charter.compiled.defaults
    if any(key not in known for key in changes):
        raise InputError(
            "unknown switch key; GET /v1/subjects/{id}/switches lists them", field="changes"
        )
    if caller.service is not None:
        own = caller.service + "."
        if any(not key.startswith(own) for key in changes):
            raise RefusedError(
                "a service credential may change only its own service's switches",
                code="forbidden",
                field="changes",
            )


@router.get(
    "",
    response_model=SwitchesOut,
    openapi_extra=SUBJECT_ROUTE_OPENAPI,
    responses=responses(401, 403, 404, 422),
)
async def get_switches(request: Request) -> Response:
    """Every switch of the subject with its current value and label."""
    # the hot routes read their caller and subject themselves: FastAPI solves no dependency
    _caller, subject_id = await direct_subject_access(request)
    charter = get_charter(request)
    if reads_inline(request):
        switches = charter.gate.switches(subject_id)
    else:
        switches = await run_in_threadpool(charter.gate.switches, subject_id)
    return _view(charter, switches)


@router.put(
    "",
    response_model=SwitchesOut,
    openapi_extra=_OPENAPI,
    responses=responses(401, 403, 404, 422),
)
async def put_switches(request: Request) -> Response:
    """
    Change switches. Withdrawing a service's authorization stops its collection at once
    (and deletes its server data where the catalog says so). Returns every switch after the change.
    """
    caller, subject_id = await direct_subject_access(request)
    charter = get_charter(request)
    raw = await request.body()  # bounded while it streams by charter.api.limits (413 past it)
    parsed = fast_changes(raw)
    if parsed is None:
        try:
            body = SwitchChanges.model_validate_json(raw)
        except ValidationError as exc:
            return validation_response(exc.errors(include_input=False, include_url=False))
        parsed = body.changes, body.source
    changes, chosen = parsed
    _authorise(charter, caller, changes)
    source = chosen or ("device" if caller.service is not None else "user")
    submit = charter.gate.submit_switches
    if reads_inline(request):
        # checked here, written by the region's group commit: the event loop awaits the
        # commit without a worker thread
        future = submit(subject_id, changes, source=source, actor=caller.actor)
    else:
        # the subject's placement may need a read over the network: a worker thread queues
        # the change, and is free again at once (the group commit's thread writes it)
        future = await run_in_threadpool(
            submit, subject_id, changes, source=source, actor=caller.actor
        )
    switches, _ = await _outcome(future)
    return _view(charter, switches)


def _outcome(future: Future[T]) -> asyncio.Future[T]:
    """
    An asyncio future that takes ``future``'s outcome once the group commit's thread sets
    it (one call into the event loop). Cancelling it (a client that goes away) does not
    cancel the change already queued, as a worker thread would not have been stopped.
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[T] = loop.create_future()

    def settle(done: Future[T]) -> None:
        if waiter.cancelled():
            return
        if done.cancelled():
            waiter.cancel()
            return
        error = done.exception()
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    future.add_done_callback(lambda done: loop.call_soon_threadsafe(settle, done))
    return waiter


@router.get("/history", response_model=SwitchHistoryOut, responses=responses(401, 403, 404, 422))
async def get_switch_history(
    subject_id: SubjectId, charter: CharterDep, caller: SubjectCaller
) -> SwitchHistoryOut:
    """Every switch change of the subject, oldest first (its consent record)."""
    history = await run_in_threadpool(charter.gate.switch_history, subject_id)
    return SwitchHistoryOut(
        history=[
            SwitchChangeOut(
                key=h.key,
                value=h.value,
                changed_at=rfc3339(h.changed_at) or "",
                source=h.source,
                actor=h.actor,
            )
            for h in history
        ]
    )
