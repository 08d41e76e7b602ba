"""Pydantic models and value formats shared by several routers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PurposeName = Literal[
    "app_functionality", "personalization", "analytics", "advertising", "model_training"
]
"""A purpose id (ISO/IEC 19944-1 as the catalog uses it). ``model_training`` is accepted so
that the gate can refuse it by the catalog's rule, with the rule's reason."""

SubjectKindName = Literal["account", "app_instance", "advertising_id"]
"""What a subject id stands for."""

DATA_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
SERVICE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


def rfc3339(micros: int | None) -> str | None:
    """Microseconds since the epoch as an RFC 3339 UTC timestamp (``None`` stays ``None``)."""
    if micros is None:
        return None
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest:06d}Z"


class SubjectOut(BaseModel):
    """A data subject (no personal data: the id is random)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "s_3f9c0a7be2d14c6f8a51e0d2b7c4a913",
                    "kind": "account",
                    "market": "de",
                    "region": "eu",
                    "status": "active",
                }
            ]
        }
    )

    id: str = Field(description="Random subject id.")
    kind: SubjectKindName
    market: str = Field(description="ISO 3166-1 alpha-2 market, lower case.")
    region: str = Field(description="The region whose database holds the subject's data.")
    status: Literal["active", "reset", "erased"] = Field(
        description="`reset` and `erased` subjects accept no more data."
    )
