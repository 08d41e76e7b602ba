"""
``POST /v1/collect``: offer a batch of personal data to the gate (service credential).

Each event is accepted or refused on its own, with the policy's reason; a refused event
leaves nothing behind and never rejects the batch. Only a malformed request (bad JSON, a
missing or mistyped field, more than 10,000 events) is rejected as a whole, with 422;
a body over 32 MiB gets 413 while it streams in (:data:`charter.api.limits.ROUTE_LIMITS`).

This endpoint is built for throughput: a well-formed body is parsed by orjson and checked
field by field into the gate's events in one pass (:func:`_fast_events`, the same rules as
:class:`CollectRequest`); anything it does not accept is validated again by pydantic, whose
answer (the 422 and its field errors) is the one the client gets. The response is serialised
once with orjson into a ready-made response.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from starlette.responses import Response

from charter.api.deps import SUBJECT_ID_PATTERN, CharterDep, ServicePrincipal
from charter.api.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    error_response,
    responses,
    validation_response,
)
from charter.api.models import DATA_TYPE_PATTERN, PurposeName, rfc3339
from charter.app import Charter
from charter.gate import MAX_BATCH, BatchResult, Event, EventBatch, Outcome
from charter.taxonomy import Purpose

router = APIRouter(prefix="/v1", tags=["collect"])

SOURCE_PATTERN = r"^[A-Za-z0-9_.:@/-]{1,120}$"
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_PURPOSES = {p.value: p for p in Purpose}


class CollectEvent(BaseModel):
    """One piece of personal data; the service is the credential's."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(
        pattern=SUBJECT_ID_PATTERN, description="The subject the data is about."
    )
    data_type: str = Field(
        pattern=DATA_TYPE_PATTERN,
        description="A data type the service's inventory declares, e.g. `notes`.",
    )
    purpose: PurposeName
    value: JsonValue = Field(
        None, description="The value (any JSON), protected as the inventory row declares."
    )
    blob_b64: str | None = Field(
        None,
        pattern=BASE64_PATTERN,
        description="Large content (standard base64, padded), stored encrypted as a blob.",
    )
    source: str | None = Field(
        None,
        pattern=SOURCE_PATTERN,
        description="Device id or function that produced it (no personal data).",
    )


class CollectRequest(BaseModel):
    """A batch of 1 to 10,000 events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "subject_id": "s_3f9c0a7be2d14c6f8a51e0d2b7c4a913",
                            "data_type": "notes",
                            "purpose": "app_functionality",
                            "value": {"title": "Shopping"},
                            "source": "device:7f3a",
                        }
                    ]
                }
            ]
        },
    )

    events: list[CollectEvent] = Field(min_length=1, max_length=MAX_BATCH)


class CollectItem(BaseModel):
    """What happened to one event."""

    index: int = Field(description="Position of the event in the request.")
    accepted: bool
    reason: str = Field(description="`stored`, `processed_not_stored` or the refusal reason.")
    message: str
    record_id: str | None = None
    stored: bool
    expires_at: str | None = Field(
        None, description="RFC 3339 UTC expiry; null when kept until the user deletes it."
    )


class CollectResult(BaseModel):
    """The outcome of a batch, one item per event in order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accepted": 1,
                    "refused": 1,
                    "items": [
                        {
                            "index": 0,
                            "accepted": True,
                            "reason": "stored",
                            "message": "stored",
                            "record_id": "9b2d0c4e7f1a4b3c8d5e6f7a8b9c0d1e",
                            "stored": True,
                            "expires_at": None,
                        },
                        {
                            "index": 1,
                            "accepted": False,
                            "reason": "consent_required",
                            "message": "cloud has no authorization from this subject",
                            "record_id": None,
                            "stored": False,
                            "expires_at": None,
                        },
                    ],
                }
            ]
        }
    )

    accepted: int
    refused: int
    items: list[CollectItem]


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """
    A JSON schema with its local ``$defs`` substituted in place (in OpenAPI, ``#/`` refers
    to the document root, so ``#/$defs/...`` would dangle).
    """
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(CollectRequest.model_json_schema())}},
    },
}


def _events(body: CollectRequest, service: str) -> list[Event]:
    events = []
    for i, ev in enumerate(body.events):
        blob = None
        if ev.blob_b64 is not None:
            try:
                blob = b64decode(ev.blob_b64, validate=True)
            except (binascii.Error, ValueError):
                raise _BadBlobError(i) from None
        events.append(
            Event(
                ev.subject_id,
                service,
                ev.data_type,
                _PURPOSES[ev.purpose],
                ev.value,
                blob,
                ev.source,
            )
        )
    return events


_EVENT_KEYS = frozenset(CollectEvent.model_fields)
_SUBJECT_ID = re.compile(SUBJECT_ID_PATTERN)
_DATA_TYPE = re.compile(DATA_TYPE_PATTERN)
_BASE64 = re.compile(BASE64_PATTERN)
_SOURCE = re.compile(SOURCE_PATTERN)


def _fast_events(raw: bytes, service: str) -> EventBatch | None:
    """The events of a body that :class:`CollectRequest` accepts, as columns, or ``None``
    for any body it might refuse (then the caller validates with pydantic for the exact
    errors). Accepts nothing pydantic refuses: the same keys, types, patterns and bounds. A
    field value seen before in the body is not matched against its pattern again."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or len(doc) != 1:
        return None
    items = doc.get("events")
    if type(items) is not list or not 1 <= len(items) <= MAX_BATCH:
        return None
    subject_ids: list[str] = []
    data_types: list[str] = []
    purposes: list[Purpose] = []
    values: list[Any] = []
    blobs: list[bytes | None] = []
    sources: list[str | None] = []
    str_ = str
    dict_ = dict
    by_name = _PURPOSES
    seen_subjects: set[str] = set()  # values that matched their pattern already
    seen_types: set[str] = set()
    seen_sources: set[str] = set()
    for item in items:
        if type(item) is not dict_:
            return None
        subject_id = item.get("subject_id")
        data_type = item.get("data_type")
        name = item.get("purpose")
        if type(subject_id) is not str_ or type(data_type) is not str_ or type(name) is not str_:
            return None
        purpose = by_name.get(name)
        if purpose is None:
            return None
        if subject_id not in seen_subjects:
            if _SUBJECT_ID.fullmatch(subject_id) is None:
                return None
            seen_subjects.add(subject_id)
        if data_type not in seen_types:
            if _DATA_TYPE.fullmatch(data_type) is None:
                return None
            seen_types.add(data_type)
        # the three required keys are there: four keys, one of them "value", are all known
        if (len(item) != 4 or "value" not in item) and not item.keys() <= _EVENT_KEYS:
            return None
        blob = item.get("blob_b64")
        if blob is not None:
            if type(blob) is not str_ or _BASE64.fullmatch(blob) is None:
                return None
            try:
                blob = b64decode(blob, validate=True)
            except (binascii.Error, ValueError):
                return None
        source = item.get("source")
        if source is not None:
            if type(source) is not str_:
                return None
            if source not in seen_sources:
                if _SOURCE.fullmatch(source) is None:
                    return None
                seen_sources.add(source)
        subject_ids.append(subject_id)
        data_types.append(data_type)
        purposes.append(purpose)
        values.append(item.get("value"))
        blobs.append(blob)
        sources.append(source)
    return EventBatch(service, subject_ids, data_types, purposes, values, blobs, sources)


class _BadBlobError(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


def _serialise(result: BatchResult) -> bytes:
    """The response body (a :class:`CollectResult`), from the result's columns: each distinct
    outcome is read (and its expiry formatted) once, not once per event."""
    seen: dict[Outcome, tuple[bool, str, str, bool, str | None]] = {}
    items: list[dict[str, object]] = []
    append = items.append
    accepted = 0
    for index, (outcome, record_id) in enumerate(
        zip(result.outcomes, result.record_ids, strict=True)
    ):
        fields = seen.get(outcome)
        if fields is None:
            fields = seen[outcome] = (
                outcome.accepted,
                outcome.reason,
                outcome.message,
                outcome.stored,
                rfc3339(outcome.expires_at),
            )
        ok, reason, message, stored, expires = fields
        accepted += ok
        append(
            {
                "index": index,
                "accepted": ok,
                "reason": reason,
                "message": message,
                "record_id": record_id,
                "stored": stored,
                "expires_at": expires,
            }
        )
    body = {"accepted": accepted, "refused": len(items) - accepted, "items": items}
    return orjson.dumps(body)


@router.post(
    "/collect",
    response_model=CollectResult,
    openapi_extra=_OPENAPI,
    responses={
        **responses(401, 403, 422),
        413: {"model": ErrorBody, "description": "The body is larger than 32 MiB."},
        500: ERROR_RESPONSES[500],
    },
)
async def collect(request: Request, charter: CharterDep, caller: ServicePrincipal) -> Response:
    """
    Offer 1 to 10,000 events for the credential's service. Every event gets an item saying
    whether it was stored (with its record id and expiry), processed without being stored,
    or refused with the policy's reason: `unknown_subject`, `subject_inactive`, `undeclared`,
    `qualifier_mismatch`, `market_unavailable`, `consent_required`, `personalization_off`,
    `ads_off`, `system_switch_off`, `on_device_only`, `never_stored`, `purpose_refused`,
    `source_refused` (the last three, and market rules, name the catalog promise that refused),
    or `invalid_input` for a value the row cannot hold. A refused event leaves nothing behind.
    """
    raw = await request.body()  # bounded while it streams by charter.api.limits (413 past it)
    assert caller.service is not None
    # a well-formed body is parsed, collected and answered in one hand-off to a worker thread
    # (the event loop is left to move bytes); anything else is validated here for its 422
    answered = await run_in_threadpool(_fast_collect, charter, raw, caller.actor, caller.service)
    if answered is not None:
        return answered
    try:
        body = CollectRequest.model_validate_json(raw)
    except ValidationError as exc:
        return validation_response(exc.errors(include_input=False, include_url=False))
    try:
        events = _events(body, caller.service)
    except _BadBlobError as exc:
        return error_response(
            422,
            "invalid_input",
            "blob_b64 must be standard base64",
            f"events.{exc.index}.blob_b64",
        )
    result = await run_in_threadpool(
        charter.gate.collect, events, actor=caller.actor, service=caller.service
    )
    return Response(_serialise(result), media_type="application/json")


def _fast_collect(charter: Charter, raw: bytes, actor: str, service: str) -> Response | None:
    """The answer to a body :func:`_fast_events` accepts (``None`` for any other)."""
    events = _fast_events(raw, service)
    if events is None:
        return None
    result = charter.gate.collect(events, actor=actor, service=service)
    return Response(_serialise(result), media_type="application/json")
