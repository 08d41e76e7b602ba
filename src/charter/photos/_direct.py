"""``O_DIRECT`` output through a page-aligned staging buffer (JPEG scans, fast path).

A :class:`DirectWriter` owns this thread's staging buffer for one output file. The
source is read straight into the buffer's free room (:meth:`~DirectWriter.room`),
searched there and the kept bytes committed (:meth:`~DirectWriter.commit`); small
writes are copied in (:meth:`~DirectWriter.write`). Whole 4 KiB blocks are written
with ``O_DIRECT``: no copy into the page cache and nothing for ``fsync`` to write back
but the last block. :meth:`~DirectWriter.finish` writes the aligned part, clears
``O_DIRECT`` and writes the partial last block normally. ``fsync`` is still what
makes the file durable (it also flushes the disk's cache), exactly as before.

Where the file system refuses ``O_DIRECT`` (when it is set, or at the first write)
the same bytes are written normally and the process does not try again.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import threading

DIRECT_WRITES = hasattr(os, "O_DIRECT")
"""Whether JPEG output is written with ``O_DIRECT`` on the fast path."""

DIRECT_WINDOW = 1 << 20
"""Staging buffer size (plus one block); at least 4 KiB."""

ALIGN = 4096
_O_DIRECT = getattr(os, "O_DIRECT", 0)
_REFUSED = frozenset({errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP})
_usable = {"ok": True}
_local = threading.local()


def _stage_buffer() -> mmap.mmap:
    """This thread's page-aligned staging buffer (allocated once)."""
    buf: mmap.mmap | None = getattr(_local, "stage", None)
    if buf is None or len(buf) != DIRECT_WINDOW + ALIGN:
        buf = _local.stage = mmap.mmap(-1, DIRECT_WINDOW + ALIGN)
    return buf


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def _set_direct(fd: int, on: bool) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | _O_DIRECT if on else flags & ~_O_DIRECT)


class DirectWriter:
    """Direct output to ``fd`` from offset 0; see the module doc."""

    def __init__(self, fd: int, stage: mmap.mmap, head: bytes | bytearray) -> None:
        self.fd = fd
        self._stage = stage
        self._fill = len(head)
        self._written = 0
        stage[: self._fill] = head

    @classmethod
    def start(cls, fd: int, head: bytes | bytearray) -> DirectWriter | None:
        """Switch ``fd`` (nothing written to it yet) to direct writes that begin with
        ``head``; ``None`` when direct writes are off or refused here."""
        if not DIRECT_WRITES or not _usable["ok"] or len(head) >= DIRECT_WINDOW:
            return None
        try:
            _set_direct(fd, True)
        except OSError as exc:
            if exc.errno not in _REFUSED:
                raise
            _usable["ok"] = False
            return None
        return cls(fd, _stage_buffer(), head)

    def room(self) -> memoryview:
        """The free part of the staging buffer (more than 4 KiB); :meth:`commit` how
        many of the bytes read into it are output."""
        return memoryview(self._stage)[self._fill :]

    def commit(self, n: int) -> None:
        """``n`` bytes at the start of :meth:`room` are output."""
        self._fill += n
        if self._fill >= DIRECT_WINDOW:
            self._drain()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the output."""
        with memoryview(data) as view:
            at = 0
            while at < len(view):
                k = min(len(view) - at, len(self._stage) - self._fill)
                self._stage[self._fill : self._fill + k] = view[at : at + k]
                self.commit(k)
                at += k

    def finish(self) -> None:
        """Write everything left; the descriptor is back in normal mode."""
        self._drain()
        _set_direct(self.fd, False)
        if self._fill:
            with memoryview(self._stage) as view:
                _write_all(self.fd, view[: self._fill])
            self._fill = 0

    def _drain(self) -> None:
        """Write the whole blocks of the staging buffer; keep the partial last one."""
        aligned = self._fill & ~(ALIGN - 1)
        if not aligned:
            return
        with memoryview(self._stage) as view:
            try:
                _write_all(self.fd, view[:aligned])
            except OSError as exc:
                if exc.errno not in _REFUSED or self._written:
                    raise
                _usable["ok"] = False  # refused at the first write: normal writes
                _set_direct(self.fd, False)
                _write_all(self.fd, view[:aligned])
        self._written += aligned
        tail = self._fill - aligned
        self._stage[:tail] = self._stage[aligned : self._fill]
        self._fill = tail
