"""``/v1/subjects``: create subjects, look one up, reset a pseudonymous identifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from charter.api.deps import CharterDep, ServicePrincipal, SubjectCaller, SubjectId
from charter.api.errors import responses
from charter.api.models import SubjectKindName, SubjectOut
from charter.gate import Subject

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])


class SubjectCreate(BaseModel):
    """A new subject: an account, or a pseudonymous app-instance or advertising identifier."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kind": "account", "market": "de"}]}
    )

    kind: SubjectKindName
    market: str = Field(
        pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 market; decides the region."
    )


def subject_out(subject: Subject) -> SubjectOut:
    """The API view of a gate subject."""
    return SubjectOut.model_validate(
        {
            "id": subject.id,
            "kind": subject.kind.value,
            "market": subject.market,
            "region": subject.region,
            "status": subject.status,
        }
    )


@router.post("", status_code=201, response_model=SubjectOut, responses=responses(401, 403, 422))
async def create_subject(
    body: Annotated[SubjectCreate, Body()], charter: CharterDep, caller: ServicePrincipal
) -> SubjectOut:
    """
    Create a subject in the region of its market (service credential).

    The id is random; personal attributes (name, email) never go here but through the gate
    as declared data types.
    """
    subject = await run_in_threadpool(
        charter.gate.create_subject, body.kind, body.market, actor=caller.actor
    )
    return subject_out(subject)


@router.get("/{subject_id}", response_model=SubjectOut, responses=responses(401, 403, 404, 422))
async def get_subject(
    subject_id: SubjectId, charter: CharterDep, caller: SubjectCaller
) -> SubjectOut:
    """A subject (a service credential, or that subject's own user token)."""
    return subject_out(await run_in_threadpool(charter.gate.subject, subject_id))


@router.post(
    "/{subject_id}/reset", response_model=SubjectOut, responses=responses(401, 403, 404, 422)
)
async def reset_subject(
    subject_id: SubjectId, charter: CharterDep, caller: SubjectCaller
) -> SubjectOut:
    """
    Reset a pseudonymous identifier (app instance or advertising id): a new subject is
    returned and the old one stops accepting data; its data ages out under its retention.
    Accounts cannot be reset (422).
    """
    subject = await run_in_threadpool(charter.gate.reset_pseudonym, subject_id, actor=caller.actor)
    return subject_out(subject)
