"""JPEG: keep the codec segments, drop metadata segments, stream the scans."""

from __future__ import annotations

import struct

from charter.photos import _iptc, _tiff, _xmp
from charter.photos._io import CountingSink, Source
from charter.photos.options import StripOptions
from charter.photos.report import ReportBuilder

_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_ICC_ID = b"ICC_PROFILE\x00"
_JFIF_ID = b"JFIF\x00"
_PHOTOSHOP_ID = b"Photoshop 3.0\x00"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


class _JpegStripper:
    def __init__(
        self, src: Source, dst: CountingSink, options: StripOptions, report: ReportBuilder
    ) -> None:
        self.src = src
        self.dst = dst
        self.options = options
        self.report = report
        self.seen_exif = False
        self.seen_sof = False

    def run(self) -> None:
        if self.src.read_exact(2, "the JPEG header") != b"\xff\xd8":
            raise self.src.corrupt("not a JPEG start-of-image marker")
        self.dst.write(b"\xff\xd8")
        scans = 0
        while True:
            marker = self._next_marker()
            if marker == 0xD9:
                if scans == 0:
                    raise self.src.corrupt("the JPEG ends before any image data")
                self.dst.write(b"\xff\xd9")
                break
            if marker in _STANDALONE:
                self.dst.write(bytes((0xFF, marker)))
                continue
            head = self.src.read_exact(2, "a JPEG segment header")
            length = struct.unpack(">H", head)[0]
            if length < 2:
                raise self.src.corrupt("a JPEG segment has an impossible length")
            payload = self.src.read_exact(length - 2, "a JPEG segment")
            if marker == 0xDA:
                if not self.seen_sof:
                    raise self.src.corrupt("image data comes before the frame header")
                self.dst.write(bytes((0xFF, marker)) + head + payload)
                self.src.copy_scan(self.dst, "the JPEG image data")
                scans += 1
                continue
            if marker in _SOF:
                self.seen_sof = True
            out = self._filter(marker, payload)
            if out is not None:
                self.dst.write(_segment(marker, out))
        if not self.src.at_eof():
            self.report.remove("trailer")

    def _next_marker(self) -> int:
        pair = self.src.read_exact(2, "a JPEG marker")  # 0xFF and the code, in one read
        if pair[0] != 0xFF:
            raise self.src.corrupt("a JPEG marker is missing where one is required")
        code = pair[1]
        while code == 0xFF:  # 0xFF fill bytes before a marker are allowed and dropped
            code = self.src.read_exact(1, "a JPEG marker")[0]
        if code == 0x00:
            raise self.src.corrupt("a JPEG marker is invalid")
        return code

    def _filter(self, marker: int, payload: bytes) -> bytes | None:
        """The payload to write for this segment, or ``None`` to drop it."""
        if marker == 0xFE:
            self.report.remove("comment")
            if self.report.collecting:
                self.report.value("comment", "Comment", payload.decode("utf-8", "replace"))
            return None
        if not 0xE0 <= marker <= 0xEF:
            return payload  # codec segment: tables, frame, restart interval...
        handler = {0: self._app0, 1: self._app1, 2: self._app2, 13: self._app13, 14: self._app14}
        if marker - 0xE0 in handler:
            return handler[marker - 0xE0](payload)
        self.report.remove("vendor")
        return None

    def _app13(self, payload: bytes) -> bytes | None:
        if payload.startswith(_PHOTOSHOP_ID):
            iptc, other = _iptc.count_resources(payload[len(_PHOTOSHOP_ID) :], self.report)
            self.report.remove("iptc", iptc)
            self.report.remove("photoshop", other)
        else:
            self.report.remove("vendor")
        return None

    def _app14(self, payload: bytes) -> bytes | None:
        if payload.startswith(b"Adobe"):
            self.report.keep("adobe")
            return payload
        self.report.remove("vendor")
        return None

    def _app2(self, payload: bytes) -> bytes | None:
        if payload.startswith(_ICC_ID):
            if self.options.drop_icc:
                self.report.remove("icc")
                return None
            self.report.keep("icc")
            return payload
        self.report.remove("mpf" if payload.startswith(b"MPF\x00") else "vendor")
        return None

    def _app0(self, payload: bytes) -> bytes | None:
        if payload.startswith(_JFIF_ID) and len(payload) >= 14:
            self.report.keep("jfif")
            if payload[12] or payload[13] or len(payload) > 14:
                self.report.remove("thumbnail")
            return payload[:12] + b"\x00\x00"
        if payload.startswith(b"JFXX\x00"):
            self.report.remove("thumbnail")
            return None
        self.report.remove("vendor")
        return None

    def _app1(self, payload: bytes) -> bytes | None:
        if payload.startswith(b"Exif\x00"):
            return self._exif(payload[6:])
        if payload.startswith(_xmp.XMP_JPEG_ID):
            return self._xmp(payload)
        if payload.startswith(_xmp.XMP_EXT_JPEG_ID):
            self.report.remove("xmp_extended")
            return None
        self.report.remove("vendor")
        return None

    def _exif(self, tiff: bytes) -> bytes | None:
        first = not self.seen_exif
        self.seen_exif = True
        info = _tiff.safe_read_exif(tiff, self.report)
        if info is None or not first:
            self.report.remove("exif")
            return None
        kept = _tiff.reduce_exif(
            tiff,
            info,
            self.report,
            location_only=self.options.location_only,
            keep_gps=self.options.keeps_location,
        )
        return None if kept is None else _tiff.EXIF_PREFIX + kept

    def _xmp(self, payload: bytes) -> bytes | None:
        packet = payload[len(_xmp.XMP_JPEG_ID) :]
        if self.report.collecting:
            for name, value in _xmp.properties(packet):
                self.report.value("xmp", name, value)
        if self.options.location_only:
            try:
                kept, n = _xmp.remove_location(packet)
            except _xmp.XmpError:
                self.report.remove("xmp")
                return None
            self.report.remove("xmp_location", n)
            self.report.keep("xmp")
            return _xmp.XMP_JPEG_ID + kept
        self.report.remove("xmp")
        return None


def strip_jpeg(
    src: Source, dst: CountingSink, options: StripOptions, report: ReportBuilder
) -> None:
    """Copy a JPEG from ``src`` to ``dst`` without its metadata (see module doc)."""
    _JpegStripper(src, dst, options, report).run()
