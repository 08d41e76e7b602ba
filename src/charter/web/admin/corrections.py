"""
Staff act on a correction request: pick the requester's record by its keyed fingerprint
(never its id or value), enter the corrected value, and the gate applies it; the request is
closed as fulfilled with the fingerprints of the record and of the old and new value.
"""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError, NotFoundError
from charter.web._routing import WebRoute
from charter.web.admin.queue import RID, Staff, handle
from charter.web.deps import csrf_protect, redirect, render, services, web_session

router = APIRouter(prefix="/admin", route_class=WebRoute, dependencies=[Depends(csrf_protect)])


def _checked(request_id: str) -> str:
    if not re.match(RID, request_id):
        raise NotFoundError("no such request", field="request_id")
    return request_id


@router.get("/requests/{request_id}/correction", include_in_schema=False)
def correction_form(request: Request, user: Staff, request_id: str) -> Response:
    """The requester's correctable records (by fingerprint) and the correction form."""
    rights = services(request).rights
    item = rights.requests.get(_checked(request_id))
    found = rights.correction_candidates(request_id)
    texts = (
        rights.requests.texts(request_id, actor=f"staff:{handle(user)}")
        if item.has_message
        else {"message": None}
    )
    return render(
        request,
        "admin/correction.html",
        {
            "title": "Apply a correction",
            "item": item,
            "candidates": found,
            "message": texts.get("message"),
        },
    )


@router.post("/requests/{request_id}/correction", include_in_schema=False)
def apply_correction(
    request: Request,
    user: Staff,
    request_id: str,
    record: Annotated[str, Form(max_length=64)],
    value: Annotated[str, Form(max_length=20_000)],
    structured: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Apply the correction through the gate and close the request as fulfilled."""
    _checked(request_id)
    if not value.strip():
        raise InputError("enter the corrected value", field="value")
    new: object = value
    if structured == "yes":
        try:
            new = json.loads(value)
        except ValueError:
            raise InputError("the corrected value is not valid JSON", field="value") from None
    done = services(request).rights.apply_correction(request_id, record, new, staff=handle(user))
    web_session(request).say(
        f"Correction applied and the request closed. Record {done.record_ref[:16]}: "
        f"old value {done.old_fingerprint[:16]}, new value {done.new_fingerprint[:16]}.",
        "success",
    )
    return redirect(f"/admin/requests/{request_id}")
