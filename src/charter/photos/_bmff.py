"""ISO base media file format (HEIF container) box reading and writing helpers."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass


class BoxError(ValueError):
    """Internal: a box structure is invalid (reported as a corrupt file)."""


@dataclass(frozen=True, slots=True)
class Box:
    """One box: its type, absolute start, header length and total size."""

    type: bytes
    start: int
    header: int
    size: int

    @property
    def end(self) -> int:
        """Offset just after the box."""
        return self.start + self.size

    @property
    def body(self) -> int:
        """Offset of the first payload byte."""
        return self.start + self.header


def parse_header(head: bytes, start: int, limit: int) -> Box:
    """Parse a box header (``head`` holds at least its first 16 bytes when needed)."""
    if len(head) < 8:
        raise BoxError("short box header")
    size, kind = struct.unpack(">I4s", head[:8])
    header = 8
    if size == 1:
        if len(head) < 16:
            raise BoxError("short large box header")
        size = struct.unpack(">Q", head[8:16])[0]
        header = 16
    elif size == 0:
        size = limit - start
    if kind == b"uuid":
        header += 16
    if size < header or start + size > limit:
        raise BoxError("box size out of range")
    return Box(kind, start, header, size)


def iter_boxes(data: bytes, start: int, end: int) -> Iterator[Box]:
    """Child boxes of an in-memory buffer between ``start`` and ``end``."""
    at = start
    while at < end:
        box = parse_header(data[at : at + 16], at, end)
        yield box
        at = box.end


def make_box(kind: bytes, payload: bytes) -> bytes:
    """Serialise a box with a 32-bit size."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


class Reader:
    """Big-endian field reader over an in-memory box payload."""

    def __init__(self, data: bytes, at: int, end: int) -> None:
        self.data = data
        self.at = at
        self.end = end

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        if n < 0 or self.at + n > self.end:
            raise BoxError("field out of range")
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def uint(self, n: int) -> int:
        """An unsigned big-endian integer of ``n`` bytes (0 bytes reads as 0)."""
        return int.from_bytes(self.take(n), "big") if n else 0

    def cstring(self) -> bytes:
        """A NUL-terminated string (missing terminator: up to the end)."""
        nul = self.data.find(b"\x00", self.at, self.end)
        stop = self.end if nul < 0 else nul
        out = self.data[self.at : stop]
        self.at = min(self.end, stop + 1)
        return out
