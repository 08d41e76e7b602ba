"""Public API: strip metadata from a stream, bytes or a file (atomically)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from charter.device.photos._heif import strip_heif
from charter.device.photos._io import CountingSink, Sink, Source
from charter.device.photos._jpeg import strip_jpeg
from charter.device.photos._png import strip_png
from charter.device.photos._webp import strip_webp
from charter.device.photos.errors import ErrorCode, PhotoFormatError
from charter.device.photos.formats import HEAD_SIZE, PhotoFormat, detect_format, media_type
from charter.device.photos.options import StripOptions
from charter.device.photos.report import ReportBuilder, StripReport

_Handler = Callable[[Source, CountingSink, StripOptions, ReportBuilder], None]
_HANDLERS: dict[PhotoFormat, _Handler] = {
    PhotoFormat.JPEG: strip_jpeg,
    PhotoFormat.PNG: strip_png,
    PhotoFormat.WEBP: strip_webp,
    PhotoFormat.HEIF: strip_heif,
}
_DEFAULT = StripOptions()


def _head(src: BinaryIO, name: str) -> bytes:
    start = src.tell()
    head = src.read(HEAD_SIZE)
    src.seek(start)
    if not head:
        raise PhotoFormatError(ErrorCode.EMPTY, "the file is empty (0 bytes)", name=name)
    return head


def _run(
    src: BinaryIO, dst: Sink, options: StripOptions, name: str, builder: ReportBuilder
) -> StripReport:
    head = _head(src, name)
    fmt = detect_format(head)
    if fmt is None:
        raise PhotoFormatError(
            ErrorCode.UNSUPPORTED, "the content is not a JPEG, PNG, WebP or HEIC image", name=name
        )
    start = src.tell()
    source = Source(src, name)
    if start:
        source.seek(start)
    sink = CountingSink(dst)
    try:
        _HANDLERS[fmt](source, sink, options, builder)
    except (struct.error, IndexError, zlib.error, OverflowError) as exc:
        raise source.corrupt("the file structure is damaged") from exc
    bytes_in = source.tell() - start
    if source.seekable():
        bytes_in = source.size() - start
    return builder.build(fmt, media_type(fmt, head), bytes_in, sink.count)


def strip_stream(
    src: BinaryIO,
    dst: Sink,
    *,
    options: StripOptions | None = None,
    name: str = "<stream>",
) -> StripReport:
    """Copy the photo in ``src`` to ``dst`` without its metadata; return the report.

    ``src`` must be a seekable binary file positioned at the start of the photo. The
    format is detected from the bytes. Image data is copied through one bounded
    buffer, never decoded or re-encoded. Raises :class:`PhotoFormatError` for bad input
    (``dst`` may then hold a partial copy: use :func:`strip_file` for atomic output).
    """
    return _run(src, dst, options or _DEFAULT, name, ReportBuilder())


def strip_bytes(
    data: bytes, *, options: StripOptions | None = None, name: str = "<bytes>"
) -> tuple[bytes, StripReport]:
    """Strip an in-memory photo; return the new bytes and the report."""
    out = io.BytesIO()
    report = strip_stream(io.BytesIO(data), out, options=options, name=name)
    return out.getvalue(), report


def strip_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str] | None = None,
    *,
    options: StripOptions | None = None,
    durable: bool = True,
) -> StripReport:
    """Strip the photo at ``src`` into ``dst`` (``None``: replace ``src`` in place).

    The output is written to a temporary file in the destination folder, flushed to
    disk (``durable``) and renamed over the destination, so a failure never leaves a
    half-written file. Permission bits of the source are kept.
    """
    src_path = Path(src)
    dst_path = Path(dst) if dst is not None else src_path
    fd, tmp_name = tempfile.mkstemp(prefix=".charter-", suffix=".part", dir=dst_path.parent)
    try:
        with open(src_path, "rb") as fin, os.fdopen(fd, "wb") as fout:
            report = strip_stream(fin, fout, options=options, name=src_path.name)
            fout.flush()
            if durable:
                os.fsync(fout.fileno())
        shutil.copymode(src_path, tmp_name)
        os.replace(tmp_name, dst_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return report


def detect_file_format(path: str | os.PathLike[str]) -> PhotoFormat | None:
    """The format of the file at ``path`` judged from its first bytes."""
    with open(path, "rb") as f:
        return detect_format(f.read(HEAD_SIZE))
