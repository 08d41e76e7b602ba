"""Bounded-memory byte source and sink shared by the format handlers.

Everything is read through one fixed-size buffer, so memory does not grow with the
file size: large image payloads are copied chunk by chunk.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Protocol

from charter.device.photos.errors import ErrorCode, PhotoFormatError

CHUNK_SIZE = 1 << 20
"""Size of the single copy buffer (1 MiB)."""

_ZEROS = bytes(64 * 1024)


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

    def zeros(self, n: int) -> None:
        """Write ``n`` zero bytes."""
        while n > 0:
            k = min(n, len(_ZEROS))
            self.write(_ZEROS[:k])
            n -= k


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

    def __init__(self, f: BinaryIO, name: str, chunk_size: int = CHUNK_SIZE) -> None:
        self._f = f
        self.name = name
        self._chunk = chunk_size
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
            more = self._f.read(max(n - len(buf), self._chunk))
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
        try:
            return bool(self._f.seekable())
        except (AttributeError, OSError):
            return False

    def seek(self, offset: int) -> None:
        """Move to an absolute offset (requires a seekable file)."""
        if self._base <= offset <= self._base + len(self._buf):
            self._pos = offset - self._base
            return
        self._f.seek(offset)
        self._buf = b""
        self._pos = 0
        self._base = offset
        self._eof = False

    def size(self) -> int:
        """Total size of a seekable file."""
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
        """Copy exactly ``n`` bytes to ``dst`` through the bounded buffer."""
        while n > 0:
            if not self._fill(1):
                raise self.truncated(what)
            k = min(n, len(self._buf) - self._pos)
            dst.write(memoryview(self._buf)[self._pos : self._pos + k])
            self._pos += k
            n -= k

    def copy_until(self, dst: Sink, pattern: re.Pattern[bytes], what: str) -> None:
        """Copy bytes to ``dst`` until ``pattern`` matches; stop at the match start.

        ``pattern`` must match at most two bytes and start with a byte that cannot
        otherwise end a buffer (used for JPEG entropy-coded data, where the match is
        ``0xFF`` followed by a marker code).
        """
        while True:
            if not self._fill(2):
                raise self.truncated(what)
            m = pattern.search(self._buf, self._pos)
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
