"""
``create_api(charter)``: the FastAPI application of Charter's HTTP API (``/v1``, OAuth,
well-known resources); :func:`charter.asgi.create_app` serves it beside the Privacy Center.

Cheap to build and light at rest: it imports only the API's own modules (no renderers, no
PDF engine); the catalog and keyring come ready in the :class:`~charter.app.Charter`
object. ``charter serve`` runs it with uvicorn::

    uvicorn.run(charter.asgi.create_app(Charter.open(Settings.from_env())), host=host, port=port)
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI

from charter.api import docs, errors, limits
from charter.api.admission import Admission, parse_limits
from charter.api.edge import EdgeMiddleware
from charter.api.routers import (
    account,
    ads,
    ai,
    app_vault,
    browser,
    caller,
    cloud,
    collect,
    find_device,
    get_apps,
    items,
    oauth,
    pay,
    photos,
    records,
    rights,
    staff,
    subjects,
    switches,
    themes,
    usage,
    video,
    wellknown,
)
from charter.app import Charter
from charter.errors import ConfigError

DESCRIPTION = """
The HTTP API of Charter's gate: every byte of personal data enters and leaves through it.

**Authentication**: `Authorization: Bearer <credential>` with a service credential
(`ck_<id>_<secret>`) or an interim user token (`ut_<id>_<secret>`).

**Errors** always have the body `{"error": {"code", "message", "field"}}`; messages never
echo request values. A refusal by the policy is a 403 whose `code` is the reason.

**Global Privacy Control**: `Sec-GPC: 1` on any request about a subject opts that subject
out of personalized ads (see `/.well-known/gpc.json`).
"""


def create_api(charter: Charter) -> FastAPI:
    """
    The API of one Charter deployment.

    Args:
        charter: an opened :class:`~charter.app.Charter` (the app does not close it).

    Returns:
        The ASGI application.
    """
    app = FastAPI(
        **_without_native_telemetry(),
        docs_url=None,  # served offline by charter.api.docs, with the pages' CSP
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        title="Charter",
        version="0.1.0",
        summary="Privacy-by-design personal-data platform",
        description=DESCRIPTION,
        openapi_tags=[
            {
                "name": "subjects",
                "description": "Data subjects: accounts and pseudonymous identifiers.",
            },
            {"name": "switches", "description": "Consent and privacy switches, with history."},
            {"name": "collect", "description": "Offer personal data to the gate."},
            {"name": "records", "description": "Read personal data for a declared purpose."},
            {"name": "photos", "description": "Strip metadata from photos before sharing."},
            {
                "name": "rights",
                "description": "Download, correct, delete, withdraw; requests and the staff queue.",
            },
            {
                "name": "account",
                "description": "Registration, sign-in, sessions, devices, 2-step verification.",
            },
            {
                "name": "oauth",
                "description": "OAuth 2.0 / OpenID Connect provider (pairwise subject ids).",
            },
            {"name": "cloud", "description": "Sync between a person's devices, trash, plan."},
            {"name": "themes", "description": "Themes store: favourites, purchases, first run."},
            {"name": "app_vault", "description": "App Vault: display-only cards, the News card."},
            {"name": "get_apps", "description": "Get Apps: catalogue, installs, reviews, points."},
            {"name": "find_device", "description": "Locate, lost mode, ring, lock, erase."},
            {"name": "meta", "description": "Health and well-known resources."},
        ],
    )
    app.state.charter = charter
    errors.install_handlers(app)
    app.state.admission = Admission(_admission_limits(charter))  # its counts, for operators
    # CORS, admission, body limits, JSON media types and the catch-all: one layer
    app.add_middleware(
        EdgeMiddleware,
        admission=app.state.admission,
        cors_allowed=charter.oauth.cors_allowed,
        max_body=charter.settings.max_body_bytes,
    )
    routers = (  # the hot routes first: a request is matched against the routes in order
        caller,  # (each route passed over costs about 1.5 us: the token grant was 72nd)
        switches,
        collect,
        oauth,
        cloud,
        subjects,
        records,
        rights,
        items,
        staff,
        photos,
        wellknown,
        account,
        usage,
        ads,
        ai,
        browser,
        video,
        pay,
        themes,
        app_vault,
        get_apps,
        find_device,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(cloud.shared)
    _complete_openapi(app, charter)
    docs.install(app)
    return app


def _without_native_telemetry() -> dict[str, Any]:
    """
    FastAPI's own OpenTelemetry off (FastAPI >= 0.16x has it; older ones take no such
    argument): its spans and metrics would carry request paths, which name subjects, to
    whatever exporter the process has; and it looks the global providers up on every
    request (~3% of the cheapest request's CPU) to find out that none is configured.
    """
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def _admission_limits(charter: Charter) -> dict[str, int]:
    try:
        return parse_limits(charter.settings.max_in_flight)
    except ValueError as exc:
        raise ConfigError(f"CHARTER_MAX_IN_FLIGHT: {exc}") from None


def _complete_openapi(app: FastAPI, charter: Charter) -> None:
    """
    Complete the OpenAPI document: list this deployment's catalog values (markets, switch
    keys), which the static models can only constrain by pattern, and the 400 and 413 that
    every route with a body can return.
    """
    generate = app.openapi
    default = charter.settings.max_body_bytes

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(switches.OPENAPI_SCHEMAS)  # read by the route itself, not by FastAPI
        for model, field in (("SubjectCreate", "market"), ("RegisterIn", "country")):
            prop = schemas.get(model, {}).get("properties", {}).get(field)
            if prop is not None:
                prop["enum"] = sorted(charter.catalog.markets)
        changes = schemas.get("SwitchChanges", {}).get("properties", {}).get("changes")
        if changes is not None:
            changes["propertyNames"] = {"enum": sorted(charter.compiled.defaults)}
        # Every body is bounded while it streams (charter.api.limits): 413 once past the
        # route's limit. A JSON body that is not JSON or not UTF-8, or a malformed multipart
        # form, is a 400 in the same error shape before the route runs; a JSON route's body
        # in another media type is a 415 (charter.api.media).
        # Any request may be shed under load (charter.api.admission) and any write may
        # meet a full disk (507).
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict):
                    continue
                _headers_are_never_null(operation)
                answers = operation.setdefault("responses", {})
                answers.setdefault(
                    "503", errors.response_doc(503, "Busy: retry after `Retry-After`.")
                )
                if method in ("post", "put", "patch", "delete"):
                    answers.setdefault("507", errors.response_doc(507, "Storage is full."))
                if "requestBody" not in operation:
                    continue
                answers.setdefault("400", errors.response_doc(400))
                if "application/json" in operation["requestBody"].get("content", {}):
                    answers.setdefault(
                        "415",
                        errors.response_doc(
                            415, "The body was not sent as `Content-Type: application/json`."
                        ),
                    )
                answers.setdefault(
                    "413", errors.response_doc(413, limits.message(limits.limit_for(path, default)))
                )
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _headers_are_never_null(operation: dict[str, Any]) -> None:
    """An optional header is absent or a string, never ``null``: keep only the string schema
    (an ``str | None`` parameter would otherwise invite clients to send the text "null")."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") != "header" or "anyOf" not in schema:
            continue
        kept = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(kept) == 1:
            del schema["anyOf"]
            schema.update(kept[0])
