"""``/.well-known/gpc.json`` (Global Privacy Control support resource) and ``/healthz``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

router = APIRouter(tags=["meta"])

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
    """Liveness."""

    status: Literal["ok"]


@router.get("/.well-known/gpc.json", response_model=GpcSupport, response_model_by_alias=True)
async def gpc_support() -> GpcSupport:
    """
    Declare Global Privacy Control support: a request carrying ``Sec-GPC: 1`` that
    identifies a subject opts that subject out of personalized ads.
    """
    return GpcSupport(gpc=True, lastUpdate=GPC_LAST_UPDATE)


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness probe (no authentication, touches no database)."""
    return Health(status="ok")
