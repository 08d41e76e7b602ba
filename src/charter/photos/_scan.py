"""Find where a JPEG scan ends: the first marker in its entropy-coded data.

Inside a scan every ``0xFF`` byte is followed by ``0x00`` (byte stuffing), by a
restart marker ``0xD0``-``0xD7`` (part of the scan), or by another ``0xFF`` (fill).
Any other code after ``0xFF`` starts a marker: the scan ends there (the next scan's
tables, metadata put between scans, the end of the image...).

:func:`find_marker` is the fast search used on the descriptor path. It compares the
bytes with numpy in L2-sized pieces (the comparisons run without the GIL, so several
threads can scan at once) and checks the rare ``0xFF`` pairs whose next byte is not
``0x00`` one by one. :data:`SCAN_END` is the same rule as a regular expression, used
by the streaming path and as the reference in the tests.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
"""``0xFF`` then a code that ends entropy-coded data (leftmost match = scan end)."""

PIECE = 1 << 17
"""Bytes compared at once (128 KiB: the piece and its masks stay in the L2 cache)."""

_local = threading.local()


def numpy() -> Any:
    """numpy, imported on first use: ``import charter.photos`` (the server, the CLI)
    does not load it; the first scan on the descriptor path does (~0.1 s, once)."""
    return importlib.import_module("numpy")


def _masks() -> tuple[np.ndarray, np.ndarray]:
    masks: tuple[np.ndarray, np.ndarray] | None = getattr(_local, "masks", None)
    if masks is None or masks[0].size != PIECE:
        lib = numpy()
        masks = _local.masks = (lib.empty(PIECE, lib.bool_), lib.empty(PIECE, lib.bool_))
    return masks


def find_marker(buf: bytes | bytearray | memoryview, n: int) -> int:
    """Offset of the first marker in ``buf[:n]`` as :data:`SCAN_END` finds it, or -1.

    Only pairs whose two bytes both lie in ``buf[:n]`` are considered: a final
    ``0xFF`` is never reported (its code byte is not there yet).
    """
    lib = numpy()
    data = lib.frombuffer(buf, lib.uint8, count=n)
    ff, nonzero = _masks()
    pos = 0
    last = n - 1  # pairs start at 0 .. n-2
    while pos < last:
        end = min(pos + PIECE, last)
        size = end - pos
        here, after = ff[:size], nonzero[:size]
        lib.equal(data[pos:end], 0xFF, out=here)
        lib.not_equal(data[pos + 1 : end + 1], 0, out=after)
        lib.logical_and(here, after, out=here)
        if here.any():
            starts = lib.flatnonzero(here) + pos
            codes = data[starts + 1]
            real = (codes != 0xFF) & ((codes < 0xD0) | (codes > 0xD7))
            if real.any():
                return int(starts[int(lib.argmax(real))])
        pos = end
    return -1
