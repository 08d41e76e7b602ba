"""
``/v1/subjects/{id}/records``: read a subject's data for a purpose (service credential).

A service reads only its own service's data, and only for a purpose its inventory row
declares while the subject's switches allow it (e.g. advertising never reads cloud or
payment data). A refusal is a 403 whose ``code`` is the policy reason.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, JsonValue

from charter.api.deps import CharterDep, ServiceSubjectCaller, SubjectId
from charter.api.errors import responses
from charter.api.models import DATA_TYPE_PATTERN, SERVICE_PATTERN, PurposeName, rfc3339
from charter.errors import RefusedError
from charter.taxonomy import Purpose

router = APIRouter(prefix="/v1/subjects/{subject_id}/records", tags=["records"])


class RecordOut(BaseModel):
    """One record, its value revealed for the purpose asked."""

    id: str
    service: str
    data_type: str
    qualifier: str = Field(description="identified | pseudonymized.")
    purposes: list[str] = Field(description="Every purpose the record's inventory row declares.")
    value: JsonValue = Field(
        description="The value; null when only a keyed hash is kept or the record is a blob."
    )
    has_blob: bool
    source: str | None
    collected_at: str = Field(description="RFC 3339 UTC.")
    expires_at: str | None = Field(
        description="RFC 3339 UTC; null when kept until the user deletes it."
    )


class RecordsOut(BaseModel):
    """The records usable for the purpose asked, oldest first."""

    records: list[RecordOut]


def _own_service(caller_service: str | None, service: str | None) -> str:
    assert caller_service is not None
    if service is not None and service != caller_service:
        raise RefusedError(
            "a service credential reads only its own service's data",
            code="wrong_service",
            field="service",
        )
    return caller_service


@router.get("", response_model=RecordsOut, responses=responses(401, 403, 404, 422))
async def read_records(
    subject_id: SubjectId,
    charter: CharterDep,
    caller: ServiceSubjectCaller,
    purpose: Annotated[PurposeName, Query(description="Why the data is read; required.")],
    service: Annotated[
        str | None,
        Query(
            pattern=SERVICE_PATTERN, description="Must be the credential's service (the default)."
        ),
    ] = None,
    data_type: Annotated[
        str | None, Query(pattern=DATA_TYPE_PATTERN, description="Only this data type.")
    ] = None,
) -> RecordsOut:
    """The subject's records of the service usable for ``purpose`` now (never expired ones)."""
    own = _own_service(caller.service, service)
    records = await run_in_threadpool(
        charter.gate.read,
        subject_id,
        service=own,
        purpose=Purpose(purpose),
        data_type=data_type,
        actor=caller.actor,
    )
    return RecordsOut(
        records=[
            RecordOut(
                id=r.id,
                service=r.service,
                data_type=r.data_type,
                qualifier=r.qualifier,
                purposes=list(r.purposes),
                value=r.value,
                has_blob=r.has_blob,
                source=r.source,
                collected_at=rfc3339(r.collected_at) or "",
                expires_at=rfc3339(r.expires_at),
            )
            for r in records
        ]
    )
