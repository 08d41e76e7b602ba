"""
``GET /v1/whoami``: who the credential on the request is, and nothing else.

A client checks its credential with it (a service credential answers with its service, a
user token or session with its subject), and the benchmarks use it as the floor of an
authenticated request on a server: the middleware, the credential check and a small JSON
answer, no database write (``bench/gate.py`` prints ``http_floor_req_per_s``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from charter.api.deps import AnyPrincipal
from charter.api.errors import responses

router = APIRouter(prefix="/v1", tags=["meta"])


class WhoAmI(BaseModel):
    """The caller a credential stands for."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "service", "actor": "service:cloud", "service": "cloud"},
                {
                    "kind": "subject",
                    "actor": "subject",
                    "subject_id": "s_3f9c0a7be2d14c6f8a51e0d2b7c4a913",
                },
            ]
        }
    )

    kind: Literal["service", "subject"] = Field(
        description="`service` for a service credential; `subject` for a user token or session."
    )
    actor: str = Field(description="The actor name history and the audit log record.")
    service: str | None = Field(None, description="The credential's service.")
    subject_id: str | None = Field(None, description="The subject the token acts for.")


@router.get("/whoami", response_model=WhoAmI, responses=responses(401))
async def whoami(caller: AnyPrincipal) -> WhoAmI:
    """The caller the request's credential stands for (checks the credential, changes nothing)."""
    kind: Literal["service", "subject"] = "service" if caller.service is not None else "subject"
    return WhoAmI(
        kind=kind, actor=caller.actor, service=caller.service, subject_id=caller.subject_id
    )
