"""WebP: drop EXIF/XMP/vendor RIFF chunks, fix the VP8X flags and the RIFF size."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from charter.photos import _tiff, _xmp
from charter.photos._io import CountingSink, Source
from charter.photos.options import StripOptions
from charter.photos.report import ReportBuilder

_IMAGE = frozenset({b"VP8 ", b"VP8L", b"ANIM", b"ANMF", b"ALPH"})
_FLAG_ICC, _FLAG_EXIF, _FLAG_XMP = 0x20, 0x08, 0x04
_MAX_METADATA_CHUNK = 16 << 20


@dataclass(slots=True)
class _Piece:
    """Either literal bytes or a range of the input to copy."""

    data: bytes = b""
    offset: int = 0
    length: int = 0

    @property
    def size(self) -> int:
        return len(self.data) if self.data else self.length


def _pad(data: bytes) -> bytes:
    return data + (b"\x00" if len(data) & 1 else b"")


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + _pad(data)


def _canvas_size(kind: bytes, head: bytes) -> tuple[int, int] | None:
    """Canvas size from a simple-format bitstream header (to synthesise VP8X)."""
    if kind == b"VP8L" and len(head) >= 5 and head[0] == 0x2F:
        bits = int.from_bytes(head[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 " and len(head) >= 10 and head[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[6:10])
        return w & 0x3FFF, h & 0x3FFF
    return None


class _WebpStripper:
    def __init__(self, src: Source, options: StripOptions, report: ReportBuilder) -> None:
        self.src = src
        self.options = options
        self.report = report
        self.vp8x: bytearray | None = None
        self.vp8x_index = -1
        self.canvas: tuple[int, int] | None = None
        self.pieces: list[_Piece] = []
        self.flags = 0
        self.end = 0

    def plan(self) -> None:
        header = self.src.read_exact(12, "the WebP header")
        riff_size = struct.unpack("<I", header[4:8])[0]
        if riff_size < 4:
            raise self.src.corrupt("the WebP size field is invalid")
        end = self.end = 8 + riff_size
        size = self.src.size()
        if end > size:
            raise self.src.truncated("the WebP data")
        at, first = 12, True
        while at < end:
            self.src.seek(at)
            head = self.src.read_exact(8, "a WebP chunk header")
            kind, length = head[:4], struct.unpack("<I", head[4:])[0]
            total = 8 + length + (length & 1)
            if at + 8 + length > end:
                raise self.src.truncated("a WebP chunk")
            if first and kind not in (b"VP8 ", b"VP8L", b"VP8X"):
                raise self.src.corrupt("the WebP does not start with an image chunk")
            first = False
            self._chunk(kind, at, length, total)
            at += total
        if first:
            raise self.src.corrupt("the WebP has no image chunk")
        if size > end:
            self.report.remove("trailer")

    def _chunk(self, kind: bytes, at: int, length: int, total: int) -> None:
        if kind == b"VP8X":
            if length < 10 or self.vp8x is not None:
                raise self.src.corrupt("the WebP extended header is invalid")
            self.vp8x = bytearray(self.src.read_exact(10, "the WebP extended header"))
            self.vp8x_index = len(self.pieces)
            self.pieces.append(_Piece())  # placeholder, filled in write()
            return
        if kind in _IMAGE:
            if self.canvas is None and kind in (b"VP8 ", b"VP8L"):
                self.canvas = _canvas_size(kind, self.src.peek(10))
            self.pieces.append(_Piece(offset=at, length=min(total, self.end - at)))
            return
        if kind == b"ICCP":
            if self.options.drop_icc:
                self.report.remove("icc")
            else:
                self.report.keep("icc")
                self.flags |= _FLAG_ICC
                self.pieces.append(_Piece(offset=at, length=total))
            return
        if kind not in (b"EXIF", b"XMP ") or length > _MAX_METADATA_CHUNK:
            self.report.remove({b"EXIF": "exif", b"XMP ": "xmp"}.get(kind, "vendor"))
            return
        data = self.src.read_exact(length, "a WebP metadata chunk")
        out = self._exif(data) if kind == b"EXIF" else self._xmp(data)
        if out is not None:
            self.flags |= _FLAG_EXIF if kind == b"EXIF" else _FLAG_XMP
            self.pieces.append(_Piece(data=_riff_chunk(kind, out)))

    def _exif(self, data: bytes) -> bytes | None:
        if data.startswith(_tiff.EXIF_PREFIX):
            data = data[len(_tiff.EXIF_PREFIX) :]
        if self.flags & _FLAG_EXIF:
            self.report.remove("exif")
            return None
        info = _tiff.safe_read_exif(data, self.report)
        if info is None:
            self.report.remove("exif")
            return None
        return _tiff.reduce_exif(
            data,
            info,
            self.report,
            location_only=self.options.location_only,
            keep_gps=self.options.keeps_location,
        )

    def _xmp(self, data: bytes) -> bytes | None:
        if self.report.collecting:
            for name, value in _xmp.properties(data):
                self.report.value("xmp", name, value)
        if self.options.location_only and not self.flags & _FLAG_XMP:
            try:
                kept, n = _xmp.remove_location(data)
            except _xmp.XmpError:
                self.report.remove("xmp")
                return None
            self.report.remove("xmp_location", n)
            self.report.keep("xmp")
            return kept
        self.report.remove("xmp")
        return None

    def _vp8x_chunk(self) -> bytes | None:
        if self.vp8x is None:
            if not self.flags & (_FLAG_EXIF | _FLAG_XMP | _FLAG_ICC):
                return None
            if self.canvas is None:
                raise self.src.corrupt("the WebP image header is invalid")
            w, h = self.canvas
            self.vp8x = bytearray(4) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
            self.vp8x_index = 0
            self.pieces.insert(0, _Piece())
        keep = self.vp8x[0] & ~(_FLAG_ICC | _FLAG_EXIF | _FLAG_XMP)
        self.vp8x[0] = keep | self.flags
        return _riff_chunk(b"VP8X", bytes(self.vp8x))

    def write(self, dst: CountingSink) -> None:
        vp8x = self._vp8x_chunk()
        if vp8x is not None:
            self.pieces[self.vp8x_index] = _Piece(data=vp8x)
        body = sum(p.size for p in self.pieces)
        dst.write(b"RIFF" + struct.pack("<I", 4 + body) + b"WEBP")
        for piece in self.pieces:
            if piece.data:
                dst.write(piece.data)
            elif piece.length:
                self.src.seek(piece.offset)
                self.src.copy(dst, piece.length, "a WebP chunk")


def strip_webp(
    src: Source, dst: CountingSink, options: StripOptions, report: ReportBuilder
) -> None:
    """Copy a WebP from ``src`` (seekable) to ``dst`` without its metadata chunks."""
    stripper = _WebpStripper(src, options, report)
    stripper.plan()
    stripper.write(dst)
