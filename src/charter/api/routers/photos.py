"""``POST /v1/photos/strip``: upload a photo, get it back without metadata."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.types import Message

from charter.photos import PhotoFormatError, StripMode, StripOptions, StripReport
from charter.photos.strip import strip_stream
from charter.store.files import TEMP, register_file_writer

MAX_UPLOAD_BYTES = 64 << 20
"""Largest accepted request body (64 MiB)."""

router = APIRouter(prefix="/v1/photos", tags=["photos"])

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/avif": ".avif",
}
_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "mode": {"type": "string", "enum": ["all", "location", "keep_location"]},
                        "drop_icc": {"type": "boolean"},
                    },
                }
            }
        },
    },
    "parameters": [
        {
            "name": "mode",
            "in": "query",
            "schema": {"type": "string", "enum": ["all", "location", "keep_location"]},
        },
        {"name": "drop_icc", "in": "query", "schema": {"type": "boolean"}},
    ],
    "responses": {
        "200": {
            "description": "The photo without metadata; X-Charter-Removed lists what went.",
            "content": {t: {} for t in _EXTENSIONS},
        },
        "413": {"description": "The upload is larger than 64 MiB."},
        "422": {"description": "The upload is not a valid supported photo."},
    },
}


class _TooLargeError(Exception):
    """The request body exceeded :data:`MAX_UPLOAD_BYTES`."""


def _error(status: int, code: str, message: str, field: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status)


def _too_large() -> JSONResponse:
    limit = MAX_UPLOAD_BYTES >> 20
    return _error(413, "too_large", f"the upload is larger than {limit} MiB", "file")


def _limited(request: Request) -> Request:
    """The same request, but reading its body fails past the size limit."""
    received = 0
    receive = request.receive

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_UPLOAD_BYTES:
                raise _TooLargeError
        return message

    return Request(request.scope, receive=limited_receive)


def _option(request: Request, form_value: object, name: str) -> str | None:
    if isinstance(form_value, str):
        return form_value
    return request.query_params.get(name)


def _parse_options(mode: str | None, drop_icc: str | None) -> StripOptions | JSONResponse:
    try:
        strip_mode = StripMode(mode or "all")
    except ValueError:
        return _error(
            422, "invalid_option", "mode must be 'all', 'location' or 'keep_location'", "mode"
        )
    flag = (drop_icc or "false").strip().lower()
    if flag not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return _error(422, "invalid_option", "drop_icc must be true or false", "drop_icc")
    return StripOptions(mode=strip_mode, drop_icc=flag in ("true", "1", "yes", "on"))


TEMP_PREFIX = "charter-photo-"

register_file_writer(
    "photo uploads",
    (f"{TEMP_PREFIX}*.part",),
    holds="a photo being stripped (its metadata may locate or name a person)",
    erasure="never kept: deleted as soon as the stripped photo is sent (or the strip fails)",
    where=TEMP,
)


def _strip_to_temp(upload: UploadFile, options: StripOptions, name: str) -> tuple[str, StripReport]:
    fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            upload.file.seek(0)
            report = strip_stream(upload.file, out, options=options, name=name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path, report


@router.post(
    "/strip", openapi_extra=_OPENAPI_BODY, response_class=FileResponse, response_model=None
)
async def strip_photo(request: Request) -> FileResponse | JSONResponse:
    """Strip metadata from the uploaded ``file`` without re-encoding it.

    Options (query or form): ``mode=all|location|keep_location`` and ``drop_icc``. The response has
    the photo's media type and an ``X-Charter-Removed`` header such as
    ``exif=12, gps=7`` (families and counts, never values).
    """
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
        return _too_large()
    try:
        form = await _limited(request).form(max_files=1, max_fields=8)
    except _TooLargeError:
        return _too_large()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _error(422, "missing_file", "send the photo as multipart field 'file'", "file")
        options = _parse_options(
            _option(request, form.get("mode"), "mode"),
            _option(request, form.get("drop_icc"), "drop_icc"),
        )
        if isinstance(options, JSONResponse):
            return options
        name = os.path.basename(upload.filename or "upload")
        try:
            path, report = await run_in_threadpool(_strip_to_temp, upload, options, name)
        except PhotoFormatError as exc:
            return _error(422, exc.code.value, exc.message, "file")
    finally:
        await form.close()
    stem = os.path.splitext(name)[0] or "photo"
    return FileResponse(
        path,
        media_type=report.media_type,
        filename=stem + _EXTENSIONS.get(report.media_type, ""),
        headers={"X-Charter-Removed": report.summary(), "Cache-Control": "no-store"},
        background=BackgroundTask(os.unlink, path),
    )
