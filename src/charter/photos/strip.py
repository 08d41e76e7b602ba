"""Public API: strip metadata from a stream, bytes or a file (atomically)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from charter.photos._heif import strip_heif
from charter.photos._io import CountingSink, FdSink, Sink, Source
from charter.photos._jpeg import strip_jpeg
from charter.photos._png import strip_png
from charter.photos._webp import strip_webp
from charter.photos.errors import ErrorCode, PhotoFormatError
from charter.photos.formats import HEAD_SIZE, PhotoFormat, detect_format, media_type
from charter.photos.options import StripOptions
from charter.photos.report import ReportBuilder, StripReport

_Handler = Callable[[Source, CountingSink, StripOptions, ReportBuilder], None]
_HANDLERS: dict[PhotoFormat, _Handler] = {
    PhotoFormat.JPEG: strip_jpeg,
    PhotoFormat.PNG: strip_png,
    PhotoFormat.WEBP: strip_webp,
    PhotoFormat.HEIF: strip_heif,
}
_DEFAULT = StripOptions()


def _run(
    src: BinaryIO,
    dst: Sink,
    options: StripOptions,
    name: str,
    builder: ReportBuilder,
    *,
    fd: int | None = None,
) -> StripReport:
    """Strip ``src`` into ``dst``; ``fd``: ``src`` is this regular file, read at offset 0."""
    start = 0 if fd is not None else src.tell()
    source = Source(src, name, fd=fd)
    if start:
        source.seek(start)
    head = source.peek(HEAD_SIZE)
    if not head:
        raise PhotoFormatError(ErrorCode.EMPTY, "the file is empty (0 bytes)", name=name)
    fmt = detect_format(head)
    if fmt is None:
        raise PhotoFormatError(
            ErrorCode.UNSUPPORTED, "the content is not a JPEG, PNG, WebP or HEIC image", name=name
        )
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
    disk (``durable``: the file, then the folder after the rename) and renamed over
    the destination, so a failure never leaves a half-written file. Permission bits
    of the source are kept. To strip many files use
    :func:`charter.photos.batch.strip_many`, which overlaps the flushes with
    the work and flushes each folder once.
    """
    dst_path = Path(dst) if dst is not None else Path(src)
    pending = strip_to_temp(src, dst_path, options or _DEFAULT)
    pending.commit(durable)
    if durable:
        fsync_dir(dst_path.parent)
    return pending.report


@dataclass(slots=True)
class PendingFile:
    """A stripped photo in its temporary file, not yet renamed over its destination.

    :meth:`commit` (fsync when ``durable``, close, rename) or :meth:`discard` must be
    called exactly once; both leave nothing behind on failure.
    """

    report: StripReport
    fd: int
    tmp: str
    dst: Path

    def commit(self, durable: bool) -> None:
        """Flush the data to disk (``durable``), close and rename over the destination."""
        try:
            try:
                if durable:
                    os.fsync(self.fd)
            finally:
                os.close(self.fd)
            os.replace(self.tmp, self.dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            raise

    def discard(self) -> None:
        """Close and remove the temporary file."""
        with contextlib.suppress(OSError):
            os.close(self.fd)
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


def strip_to_temp(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], options: StripOptions
) -> PendingFile:
    """Strip ``src`` into a new temporary file next to ``dst`` (not flushed, not renamed).

    The temporary file gets the source's permission bits. Raises like
    :func:`strip_file`; on error nothing is left behind.
    """
    dst_path = Path(dst)
    name = os.path.basename(src)
    fd, tmp = tempfile.mkstemp(prefix=".charter-", suffix=".part", dir=dst_path.parent)
    try:
        with open(src, "rb", buffering=0) as fin:
            st = os.fstat(fin.fileno())
            sink = FdSink(fd)
            if stat.S_ISREG(st.st_mode):
                report = _run(fin, sink, options, name, ReportBuilder(), fd=fin.fileno())
            else:  # a pipe or device: plain streaming reads
                report = _run(io.BufferedReader(fin), sink, options, name, ReportBuilder())
            sink.flush()
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return PendingFile(report, fd, tmp, dst_path)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (renames, new files) to disk; no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        if os.name == "nt":
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise  # EINVAL/ENOTSUP: this file system cannot sync folders
    finally:
        os.close(fd)


def detect_file_format(path: str | os.PathLike[str]) -> PhotoFormat | None:
    """The format of the file at ``path`` judged from its first bytes."""
    with open(path, "rb") as f:
        return detect_format(f.read(HEAD_SIZE))
