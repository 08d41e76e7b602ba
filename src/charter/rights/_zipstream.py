"""A write-only, non-seekable sink for :class:`zipfile.ZipFile` that hands out what was written."""

from __future__ import annotations

import io
from typing import Any


class ChunkSink(io.RawIOBase):
    """
    Collects the bytes ``zipfile`` writes so a generator can yield them as they come.

    It cannot seek, so ``zipfile`` writes data descriptors after each member instead of
    patching headers: the archive is produced strictly front to back, in constant memory.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._size = 0
        self.position = 0

    def writable(self) -> bool:
        """Always writable."""
        return True

    def write(self, data: Any) -> int:
        """Keep a copy of ``data`` until the next :meth:`drain`."""
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._size += len(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        """Bytes written so far."""
        return self.position

    @property
    def pending(self) -> int:
        """Bytes written since the last drain."""
        return self._size

    def drain(self) -> bytes:
        """Everything written since the last drain."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return data
