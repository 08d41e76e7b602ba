"""
AI technology (``/v1/ai``): the staff training-data export, which draws only on declared
non-personal sources; no route reads anyone's data for training (the gate refuses the
``model_training`` purpose for every service).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from charter.api.deps import CharterDep
from charter.api.errors import responses
from charter.api.routers.rights import Staff
from charter.services.ai import NON_PERSONAL_SOURCES

router = APIRouter(prefix="/v1/ai", tags=["ai"])


@router.get("/training-sources", responses=responses(401, 403))
async def sources(staff: Staff) -> dict[str, str]:
    """The declared non-personal sources training data may come from."""
    return dict(NON_PERSONAL_SOURCES)


@router.get("/training-data/{source}", responses=responses(401, 403, 422))
async def training_data(
    source: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")], staff: Staff, charter: CharterDep
) -> list[dict[str, Any]]:
    """Staff: the rows of one declared non-personal source."""
    return await run_in_threadpool(charter.training.export, source, is_staff=True)
