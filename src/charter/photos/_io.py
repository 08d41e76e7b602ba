"""Bounded-memory byte source and sink shared by the format handlers.

Everything is read through one fixed-size buffer, so memory does not grow with the
file size: large image payloads are copied chunk by chunk.

Fast path (used by :func:`~charter.photos.strip_file`): when the source is a
regular file given by its descriptor and the sink is an :class:`FdSink`, reads use
``pread`` at absolute offsets (no seeks), bulk payloads are copied by the kernel
(``copy_file_range``, else ``sendfile``, else a ``pread``/``write`` loop) without
passing through Python buffers, and the JPEG entropy-coded data is searched in one
reusable per-thread window and written straight from it.
"""

from __future__ import annotations

import errno
import os
import threading
from typing import BinaryIO, Protocol

from charter.photos._scan import SCAN_END, find_marker
from charter.photos.errors import ErrorCode, PhotoFormatError

CHUNK_SIZE = 1 << 20
"""Size of the single copy buffer (1 MiB)."""

FD_CHUNK_SIZE = 64 << 10
"""Read size on the descriptor fast path: metadata only (payloads bypass the buffer)."""

SCAN_WINDOW = 1 << 20
"""Size of the reusable per-thread window used to search JPEG scans (1 MiB: stays in the
cache between the read, the search and the write)."""

BULK_MIN = 64 << 10
"""Payloads at least this long are copied in the kernel on the fast path."""

_ZEROS = bytes(64 * 1024)
_PENDING_MAX = 64 << 10
_NO_KERNEL_COPY = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM, errno.ENOTSOCK,
     errno.EBADF, errno.ETXTBSY}
)  # fmt: skip
_kernel_copy = {"copy_file_range": hasattr(os, "copy_file_range"), "sendfile": True}
_local = threading.local()


def _scan_buffer() -> bytearray:
    """This thread's reusable scan window (allocated once: no page faults per file)."""
    buf: bytearray | None = getattr(_local, "scan", None)
    if buf is None or len(buf) != SCAN_WINDOW:
        buf = _local.scan = bytearray(SCAN_WINDOW)
    return buf


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """``os.write`` until every byte is written."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_range(src_fd: int, dst_fd: int, offset: int, n: int) -> int:
    """Copy ``n`` bytes at ``offset`` of ``src_fd`` to the position of ``dst_fd``.

    The kernel copies the bytes (``copy_file_range``, else ``sendfile``); when neither
    works for these files a ``pread``/``write`` loop does. Returns the number of bytes
    copied, fewer than ``n`` only when the source ends early.
    """
    done = 0
    while done < n:
        k = _copy_once(src_fd, dst_fd, offset + done, n - done)
        if k == 0:
            break
        done += k
    return done


def _copy_once(src_fd: int, dst_fd: int, offset: int, n: int) -> int:
    count = min(n, 1 << 30)
    if _kernel_copy["copy_file_range"]:
        try:
            k = os.copy_file_range(src_fd, dst_fd, count, offset)
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY:
                raise
            _kernel_copy["copy_file_range"] = False
        else:
            if k:
                return k  # 0 may mean "not supported here" (procfs...): confirm below
    if _kernel_copy["sendfile"]:
        try:
            k = os.sendfile(dst_fd, src_fd, offset, count)
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY:
                raise
            _kernel_copy["sendfile"] = False
        else:
            if k:
                return k
    data = os.pread(src_fd, min(count, CHUNK_SIZE), offset)
    write_all(dst_fd, data)
    return len(data)


class Sink(Protocol):
    """Anything with a binary ``write``."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int | None:
        """Write ``data``."""
        ...


class CountingSink:
    """Wraps a sink and counts the bytes written."""

    def __init__(self, inner: Sink) -> None:
        self._inner = inner
        self.count = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        """Write and count."""
        self._inner.write(data)
        self.count += len(data)
        return len(data)

    @property
    def fd(self) -> int | None:
        """The descriptor of an :class:`FdSink` (kernel copies possible), else ``None``."""
        return self._inner.fd if isinstance(self._inner, FdSink) else None

    def copy_range(self, src_fd: int, offset: int, n: int) -> int:
        """Kernel-copy ``n`` bytes at ``offset`` of ``src_fd`` (requires :attr:`fd`)."""
        assert isinstance(self._inner, FdSink)
        done = self._inner.copy_range(src_fd, offset, n)
        self.count += done
        return done

    def zeros(self, n: int) -> None:
        """Write ``n`` zero bytes."""
        while n > 0:
            k = min(n, len(_ZEROS))
            self.write(_ZEROS[:k])
            n -= k


class FdSink:
    """Writes to a raw file descriptor at its current position.

    Small writes (segment headers, metadata) are gathered and written together; large
    ones go straight to ``os.write``; :meth:`copy_range` lets the kernel copy a range of
    another file. Call :meth:`flush` before using or closing the descriptor.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = bytearray()

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        """Write ``data`` (maybe deferred until the next flush)."""
        n = len(data)
        if n >= _PENDING_MAX:
            self.flush()
            write_all(self.fd, data)
        else:
            self._pending += data
            if len(self._pending) >= _PENDING_MAX:
                self.flush()
        return n

    def flush(self) -> None:
        """Write the gathered small writes."""
        if self._pending:
            write_all(self.fd, self._pending)
            self._pending.clear()

    def copy_range(self, src_fd: int, offset: int, n: int) -> int:
        """Append ``n`` bytes at ``offset`` of ``src_fd``; fewer if the source ends."""
        self.flush()
        return copy_range(src_fd, self.fd, offset, n)


class NullSink:
    """Discards everything (used by inspection)."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        """Discard ``data``."""
        return len(data)


class Source:
    """A forward reader over a binary file with one bounded buffer.

    ``seek`` is available when the underlying file is seekable; handlers that need
    random access (WebP, HEIF) use it.
    """

    def __init__(
        self, f: BinaryIO, name: str, chunk_size: int = CHUNK_SIZE, *, fd: int | None = None
    ) -> None:
        self._f = f
        self.name = name
        self._fd = fd  # a regular file read with pread at absolute offsets (fast path)
        self._chunk = chunk_size if fd is None else min(chunk_size, FD_CHUNK_SIZE)
        self._size = os.fstat(fd).st_size if fd is not None else -1
        self._buf = b""
        self._pos = 0
        self._base = 0
        self._eof = False

    # -- errors -------------------------------------------------------------------
    def error(self, code: ErrorCode, problem: str) -> PhotoFormatError:
        """Build an error attributed to this source."""
        return PhotoFormatError(code, problem, name=self.name)

    def truncated(self, what: str) -> PhotoFormatError:
        """The file ended inside ``what``."""
        return self.error(ErrorCode.TRUNCATED, f"file ends in the middle of {what}")

    def corrupt(self, problem: str) -> PhotoFormatError:
        """The structure is invalid."""
        return self.error(ErrorCode.CORRUPT, problem)

    # -- buffer management --------------------------------------------------------
    def tell(self) -> int:
        """Absolute offset of the next byte to be read."""
        return self._base + self._pos

    def _fill(self, n: int) -> bool:
        avail = len(self._buf) - self._pos
        if avail >= n:
            return True
        if self._eof:
            return False
        rest = self._buf[self._pos :] if avail else b""
        self._base += self._pos
        self._pos = 0
        buf = rest
        while len(buf) < n:
            want = max(n - len(buf), self._chunk)
            if self._fd is None:
                more = self._f.read(want)
            else:
                more = os.pread(self._fd, want, self._base + len(buf))
            if not more:
                self._eof = True
                break
            buf = buf + more if buf else more
        self._buf = buf
        return len(buf) >= n

    def at_eof(self) -> bool:
        """Whether no byte is left."""
        return not self._fill(1)

    def peek(self, n: int) -> bytes:
        """Up to ``n`` next bytes without consuming them."""
        self._fill(n)
        return self._buf[self._pos : self._pos + n]

    def read_exact(self, n: int, what: str) -> bytes:
        """Exactly ``n`` bytes, or a truncation error naming ``what``."""
        if n < 0:
            raise self.corrupt(f"negative length in {what}")
        if not self._fill(n):
            raise self.truncated(what)
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def read_upto(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer at end of file)."""
        self._fill(n)
        data = self._buf[self._pos : self._pos + n]
        self._pos += len(data)
        return data

    def seekable(self) -> bool:
        """Whether random access is possible."""
        if self._fd is not None:
            return True
        try:
            return bool(self._f.seekable())
        except (AttributeError, OSError):
            return False

    def seek(self, offset: int) -> None:
        """Move to an absolute offset (requires a seekable file)."""
        if self._base <= offset <= self._base + len(self._buf):
            self._pos = offset - self._base
            return
        if self._fd is None:
            self._f.seek(offset)
        self._buf = b""
        self._pos = 0
        self._base = offset
        self._eof = False

    def size(self) -> int:
        """Total size of a seekable file."""
        if self._fd is not None:
            return self._size
        here = self._f.tell()
        end = self._f.seek(0, 2)
        self._f.seek(here)
        return end

    def skip(self, n: int, what: str) -> None:
        """Consume ``n`` bytes without keeping them."""
        while n > 0:
            if not self._fill(1):
                raise self.truncated(what)
            k = min(n, len(self._buf) - self._pos)
            self._pos += k
            n -= k

    def copy(self, dst: Sink, n: int, what: str) -> None:
        """Copy exactly ``n`` bytes to ``dst`` through the bounded buffer.

        On the fast path (descriptor source, :class:`FdSink` sink) payloads of
        :data:`BULK_MIN` bytes or more are copied by the kernel instead.
        """
        if (
            n >= BULK_MIN
            and self._fd is not None
            and isinstance(dst, CountingSink)
            and dst.fd is not None
        ):
            self._kernel_copy(dst, n, what)
            return
        while n > 0:
            if not self._fill(1):
                raise self.truncated(what)
            k = min(n, len(self._buf) - self._pos)
            dst.write(memoryview(self._buf)[self._pos : self._pos + k])
            self._pos += k
            n -= k

    def _kernel_copy(self, dst: CountingSink, n: int, what: str) -> None:
        assert self._fd is not None
        avail = min(n, len(self._buf) - self._pos)
        if avail > 0:  # already buffered: write it from the buffer
            dst.write(memoryview(self._buf)[self._pos : self._pos + avail])
            self._pos += avail
            n -= avail
        start = self.tell()
        done = dst.copy_range(self._fd, start, n)
        self.seek(start + done)
        if done < n:
            raise self.truncated(what)

    def copy_scan(self, dst: Sink, what: str) -> None:
        """Copy JPEG entropy-coded data to ``dst``; stop at the first marker (see
        :mod:`charter.photos._scan`), which is left unread.
        """
        if self._fd is not None:
            self._copy_scan_fd(dst, what)
            return
        while True:
            if not self._fill(2):
                raise self.truncated(what)
            m = SCAN_END.search(self._buf, self._pos)
            if m is not None:
                dst.write(memoryview(self._buf)[self._pos : m.start()])
                self._pos = m.start()
                return
            end = len(self._buf)
            if self._buf[end - 1] == 0xFF:
                end -= 1  # it may start a marker split over two reads
            if end > self._pos:
                dst.write(memoryview(self._buf)[self._pos : end])
                self._pos = end
            if not self._fill(2):
                raise self.truncated(what)

    def _copy_scan_fd(self, dst: Sink, what: str) -> None:
        """:meth:`copy_scan` on the fast path: ``pread`` windows searched, then written."""
        assert self._fd is not None
        buf = _scan_buffer()
        at = self.tell()
        with memoryview(buf) as view:
            while True:
                n = os.preadv(self._fd, [buf], at)
                found = find_marker(buf, n)
                if found >= 0:
                    if found:
                        dst.write(view[:found])
                    self.seek(at + found)
                    return
                keep = n - 1 if n and buf[n - 1] == 0xFF else n  # may start a split marker
                if keep == 0:
                    self.seek(at + n)
                    raise self.truncated(what)
                dst.write(view[:keep])
                at += keep
