"""``/.well-known/gpc.json`` (Global Privacy Control support resource) and ``/healthz``."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from charter.api.deps import CharterDep
from charter.store.faults import free_bytes

router = APIRouter(tags=["meta"])

MIN_FREE_BYTES = 1 << 20
"""Below this much free space in the data directory, health reports storage as full."""

STORAGE_MEMORY_SECONDS = 60
"""How long a write that failed for lack of space keeps health at ``degraded``."""

GPC_LAST_UPDATE = "2026-11-29"
"""When Charter's handling of the GPC signal last changed (ISO 8601 date)."""


class GpcSupport(BaseModel):
    """The GPC well-known resource (GPC specification, section 3.5)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"gpc": True, "lastUpdate": GPC_LAST_UPDATE}]},
    )

    gpc: bool = Field(description="The server honours `Sec-GPC: 1`.")
    last_update: str = Field(
        alias="lastUpdate", description="When the handling of GPC last changed."
    )


class Health(BaseModel):
    """Liveness, and whether writes can succeed."""

    status: Literal["ok", "degraded"] = Field(
        description="`degraded` while storage is full (reads work, writes answer 507)."
    )
    storage: Literal["ok", "full"] = Field(
        description="`full` when the data directory has under 1 MiB free or a write failed "
        "for lack of space in the last minute."
    )


@router.get("/.well-known/gpc.json", response_model=GpcSupport, response_model_by_alias=True)
async def gpc_support() -> GpcSupport:
    """
    Declare Global Privacy Control support: a request carrying ``Sec-GPC: 1`` that
    identifies a subject opts that subject out of personalized ads.
    """
    return GpcSupport(gpc=True, lastUpdate=GPC_LAST_UPDATE)


@router.get("/healthz", response_model=Health)
async def healthz(charter: CharterDep, request: Request) -> Health:
    """Liveness probe (no authentication, touches no database)."""
    failed_at = getattr(request.app.state, "storage_full_at", None)
    recent = failed_at is not None and time.monotonic() - failed_at < STORAGE_MEMORY_SECONDS
    full = recent or free_bytes(charter.settings.data_dir) < MIN_FREE_BYTES
    return Health(status="degraded" if full else "ok", storage="full" if full else "ok")
