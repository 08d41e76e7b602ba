"""PNG: keep the chunks rendering needs, drop text/time/EXIF/vendor chunks."""

from __future__ import annotations

import struct
import zlib

from charter.photos import _tiff, _xmp
from charter.photos._io import CountingSink, Source
from charter.photos.options import StripOptions
from charter.photos.report import ReportBuilder

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_RENDERING = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT",
        b"bKGD", b"pHYs", b"hIST", b"sPLT", b"sCAL", b"pCAL", b"acTL", b"fcTL", b"fdAT",
        b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi",
    }
)  # fmt: skip
_TEXT = frozenset({b"tEXt", b"zTXt", b"iTXt"})
_MAX_METADATA_CHUNK = 16 << 20
_MAX_CHUNK = (1 << 31) - 1


def chunk(kind: bytes, data: bytes) -> bytes:
    """Serialise one PNG chunk with its CRC."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _decode_text(kind: bytes, data: bytes) -> tuple[str, str]:
    keyword, _, rest = data.partition(b"\x00")
    if kind == b"zTXt":
        rest = _inflate(rest[1:])
    elif kind == b"iTXt" and len(rest) >= 2:
        compressed, body = rest[0], rest[2:]
        body = body.split(b"\x00", 2)[-1]  # skip language tag and translated keyword
        rest = _inflate(body) if compressed else body
    return keyword.decode("latin-1"), rest.decode("utf-8", "replace")


def _inflate(data: bytes) -> bytes:
    try:
        d = zlib.decompressobj()
        return d.decompress(data, _MAX_METADATA_CHUNK)
    except zlib.error:
        return b""


class _PngStripper:
    def __init__(
        self, src: Source, dst: CountingSink, options: StripOptions, report: ReportBuilder
    ) -> None:
        self.src = src
        self.dst = dst
        self.options = options
        self.report = report
        self.seen_exif = False

    def run(self) -> None:
        if self.src.read_exact(8, "the PNG signature") != SIGNATURE:
            raise self.src.corrupt("not a PNG signature")
        self.dst.write(SIGNATURE)
        first = True
        while True:
            head = self.src.read_exact(8, "a PNG chunk header")
            length, kind = struct.unpack(">I", head[:4])[0], head[4:]
            if length > _MAX_CHUNK or not kind.isalpha() or not kind.isascii():
                raise self.src.corrupt("a PNG chunk header is invalid")
            if first and kind != b"IHDR":
                raise self.src.corrupt("the PNG does not start with its header chunk")
            first = False
            if kind == b"IEND":
                self.dst.write(head)
                self.src.copy(self.dst, length + 4, "the PNG end chunk")
                break
            self._chunk(head, kind, length)
        if not self.src.at_eof():
            self.report.remove("trailer")

    def _chunk(self, head: bytes, kind: bytes, length: int) -> None:
        critical = kind[0:1].isupper()
        if kind in _RENDERING or critical:
            self.dst.write(head)
            self.src.copy(self.dst, length + 4, "a PNG chunk")
            return
        if kind == b"iCCP":
            if self.options.drop_icc:
                self.report.remove("icc")
                self.src.skip(length + 4, "a PNG chunk")
            else:
                self.report.keep("icc")
                self.dst.write(head)
                self.src.copy(self.dst, length + 4, "a PNG chunk")
            return
        wanted = kind == b"eXIf" or (
            kind in _TEXT and (self.report.collecting or self.options.location_only)
        )
        if not wanted or length > _MAX_METADATA_CHUNK:
            self.src.skip(length + 4, "a PNG chunk")
            self.report.remove(self._family(kind))
            return
        data = self.src.read_exact(length, "a PNG chunk")
        self.src.skip(4, "a PNG chunk checksum")
        out = self._exif(data) if kind == b"eXIf" else self._text(kind, data)
        if out is not None:
            self.dst.write(chunk(kind, out))

    @staticmethod
    def _family(kind: bytes) -> str:
        if kind in _TEXT:
            return "text"
        return {b"eXIf": "exif", b"tIME": "time"}.get(kind, "vendor")

    def _exif(self, data: bytes) -> bytes | None:
        if data.startswith(_tiff.EXIF_PREFIX):
            data = data[len(_tiff.EXIF_PREFIX) :]
        first = not self.seen_exif
        self.seen_exif = True
        info = _tiff.safe_read_exif(data, self.report)
        if info is None or not first:
            self.report.remove("exif")
            return None
        return _tiff.reduce_exif(
            data,
            info,
            self.report,
            location_only=self.options.location_only,
            keep_gps=self.options.keeps_location,
        )

    def _text(self, kind: bytes, data: bytes) -> bytes | None:
        keyword, text = _decode_text(kind, data)
        is_xmp = kind == b"iTXt" and keyword.encode("latin-1") == _xmp.PNG_XMP_KEYWORD
        if self.report.collecting:
            if is_xmp:
                for name, value in _xmp.properties(text.encode()):
                    self.report.value("xmp", name, value)
            else:
                self.report.value("text", keyword, text)
        if is_xmp and self.options.location_only:
            try:
                kept, n = _xmp.remove_location(text.encode("utf-8"))
            except _xmp.XmpError:
                self.report.remove("xmp")
                return None
            self.report.remove("xmp_location", n)
            self.report.keep("xmp")
            return _xmp.PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + kept
        self.report.remove("xmp" if is_xmp else "text")
        return None


def strip_png(src: Source, dst: CountingSink, options: StripOptions, report: ReportBuilder) -> None:
    """Copy a PNG from ``src`` to ``dst`` without its metadata chunks."""
    _PngStripper(src, dst, options, report).run()
