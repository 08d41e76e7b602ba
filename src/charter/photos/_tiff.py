"""EXIF (TIFF structure) reading, minimal rebuilding and in-place GPS removal.

Malformed EXIF never reaches the user as an error: callers drop what they cannot
parse (fail-safe), so :class:`ExifError` stays internal.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from charter.photos.report import ReportBuilder

EXIF_PREFIX = b"Exif\x00\x00"
ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_INTEROP_IFD = 0xA005
_MAKERNOTE = 0x927C
_POINTERS = frozenset({_EXIF_IFD, _GPS_IFD, _INTEROP_IFD})
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_IFDS = 32
_MAX_ENTRIES = 4096

_DATETIME_TAGS = frozenset({0x0132, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292})
_DEVICE_TAGS = frozenset(
    {0x010F, 0x0110, 0x0131, 0xA431, 0xA432, 0xA433, 0xA434, 0xA435, 0xC62F, 0x0148, 0xA420}
)
_OWNER_TAGS = frozenset({0x013B, 0x8298, 0xA430, 0x010E, 0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})

_TAG_FAMILIES = (
    ("makernote", frozenset({_MAKERNOTE})),
    ("datetime", _DATETIME_TAGS),
    ("device", _DEVICE_TAGS),
    ("owner", _OWNER_TAGS),
)

TAG_NAMES: dict[int, str] = {
    0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0112: "Orientation",
    0x0131: "Software", 0x0132: "DateTime", 0x013B: "Artist", 0x8298: "Copyright",
    0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized", 0x9010: "OffsetTime",
    0x9011: "OffsetTimeOriginal", 0x927C: "MakerNote", 0x9286: "UserComment",
    0xA420: "ImageUniqueID", 0xA430: "CameraOwnerName", 0xA431: "BodySerialNumber",
    0xA433: "LensMake", 0xA434: "LensModel", 0xA435: "LensSerialNumber",
    0x0000: "GPSVersionID", 0x0001: "GPSLatitudeRef", 0x0002: "GPSLatitude",
    0x0003: "GPSLongitudeRef", 0x0004: "GPSLongitude", 0x0005: "GPSAltitudeRef",
    0x0006: "GPSAltitude", 0x0007: "GPSTimeStamp", 0x001D: "GPSDateStamp",
}  # fmt: skip


class ExifError(ValueError):
    """Internal: the EXIF block is malformed."""


@dataclass(slots=True)
class _Entry:
    tag: int
    type: int
    count: int
    value_at: int  # absolute offset in the TIFF data of the value bytes
    size: int  # total value size in bytes
    entry_at: int  # absolute offset of the 12-byte entry


@dataclass(slots=True)
class _Ifd:
    offset: int
    entries: list[_Entry]
    next_at: int  # offset of the 4-byte "next IFD" pointer


@dataclass(slots=True)
class ExifInfo:
    """What a TIFF/EXIF block contains (families and counts, the orientation)."""

    orientation: int | None = None
    families: dict[str, int] = field(default_factory=dict)

    def add(self, family: str, count: int = 1) -> None:
        """Count one more item in ``family``."""
        self.families[family] = self.families.get(family, 0) + count


class _Tiff:
    def __init__(self, data: bytes) -> None:
        if len(data) < 8:
            raise ExifError("short")
        order = data[:2]
        if order == b"II":
            self.e = "<"
        elif order == b"MM":
            self.e = ">"
        else:
            raise ExifError("byte order")
        self.data = data
        if self.u16(2) != 42:
            raise ExifError("magic")
        self.ifd0 = self.u32(4)

    def u16(self, at: int) -> int:
        if at < 0 or at + 2 > len(self.data):
            raise ExifError("out of range")
        return int(struct.unpack_from(self.e + "H", self.data, at)[0])

    def u32(self, at: int) -> int:
        if at < 0 or at + 4 > len(self.data):
            raise ExifError("out of range")
        return int(struct.unpack_from(self.e + "I", self.data, at)[0])

    def ifd(self, offset: int) -> _Ifd:
        n = self.u16(offset)
        if n > _MAX_ENTRIES or offset + 2 + 12 * n + 4 > len(self.data):
            raise ExifError("ifd size")
        entries = []
        for i in range(n):
            at = offset + 2 + 12 * i
            tag, typ = self.u16(at), self.u16(at + 2)
            count = self.u32(at + 4)
            size = _TYPE_SIZES.get(typ, 1) * count
            value_at = at + 8 if size <= 4 else self.u32(at + 8)
            entries.append(_Entry(tag, typ, count, value_at, size, at))
        return _Ifd(offset, entries, offset + 2 + 12 * n)

    def value(self, entry: _Entry) -> bytes:
        end = entry.value_at + entry.size
        if entry.value_at < 0 or end > len(self.data):
            raise ExifError("value out of range")
        return self.data[entry.value_at : end]

    def short(self, entry: _Entry) -> int:
        if entry.type == 3:
            return self.u16(entry.value_at)
        if entry.type == 4:
            return self.u32(entry.value_at)
        raise ExifError("not an integer")


def _family(tag: int, ifd_kind: str) -> str:
    if ifd_kind in ("gps", "thumbnail"):
        return ifd_kind
    for family, tags in _TAG_FAMILIES:
        if tag in tags:
            return family
    return "exif"


def _render(tiff: _Tiff, entry: _Entry) -> str:
    try:
        raw = tiff.value(entry)
    except ExifError:
        return "(unreadable)"
    if entry.type == 2:
        return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")
    if entry.type in (3, 4) and entry.count <= 16:
        fmt = tiff.e + ("H" if entry.type == 3 else "I") * entry.count
        return " ".join(str(v) for v in struct.unpack(fmt, raw))
    if entry.type in (5, 10) and entry.count <= 16:
        code = "I" if entry.type == 5 else "i"
        nums = struct.unpack(tiff.e + code * (2 * entry.count), raw)
        return " ".join(f"{nums[i]}/{nums[i + 1]}" for i in range(0, len(nums), 2))
    return f"({entry.size} bytes)"


def _walk(tiff: _Tiff) -> list[tuple[str, _Ifd]]:
    """All IFDs with their kind: main, exif, gps, interop, thumbnail."""
    out: list[tuple[str, _Ifd]] = []
    seen: set[int] = set()
    todo: list[tuple[str, int]] = [("main", tiff.ifd0)]
    while todo and len(out) < _MAX_IFDS:
        kind, offset = todo.pop(0)
        if offset == 0 or offset in seen:
            continue
        seen.add(offset)
        ifd = tiff.ifd(offset)
        out.append((kind, ifd))
        for e in ifd.entries:
            if e.tag == _EXIF_IFD and kind == "main":
                todo.append(("exif", tiff.short(e)))
            elif e.tag == _GPS_IFD and kind in ("main", "thumbnail"):
                todo.append(("gps", tiff.short(e)))
            elif e.tag == _INTEROP_IFD and kind == "exif":
                todo.append(("interop", tiff.short(e)))
        if kind in ("main", "thumbnail"):
            nxt = tiff.u32(ifd.next_at)
            if nxt:
                todo.append(("thumbnail", nxt))
    return out


def read_exif(data: bytes, builder: ReportBuilder | None = None) -> ExifInfo:
    """Parse TIFF bytes (without the ``Exif\\0\\0`` prefix) into families and counts.

    When ``builder`` collects values (inspection), tag values are added to it.
    """
    tiff = _Tiff(data)
    info = ExifInfo()
    for kind, ifd in _walk(tiff):
        if kind == "thumbnail":
            info.add("thumbnail")
        for e in ifd.entries:
            if e.tag in _POINTERS and kind != "gps":
                continue
            if kind == "main" and e.tag == ORIENTATION:
                try:
                    info.orientation = tiff.short(e)
                except ExifError:
                    info.orientation = None
                continue
            if kind != "thumbnail":
                info.add(_family(e.tag, kind))
            if builder is not None and builder.collecting and kind != "thumbnail":
                name = TAG_NAMES.get(e.tag, f"Tag0x{e.tag:04X}")
                builder.value(_family(e.tag, kind), name, _render(tiff, e))
    return info


def safe_read_exif(data: bytes, builder: ReportBuilder | None = None) -> ExifInfo | None:
    """Like :func:`read_exif` but ``None`` for malformed data."""
    try:
        return read_exif(data, builder)
    except ExifError:
        return None


def reduce_exif(
    tiff: bytes,
    info: ExifInfo,
    report: ReportBuilder,
    *,
    location_only: bool,
    keep_orientation: bool = True,
    keep_gps: bool = False,
) -> bytes | None:
    """
    What to keep of a readable EXIF block (TIFF bytes), recording what goes in ``report``.

    Location only: the block with its GPS data removed. ``keep_gps``: a new block holding
    only the GPS IFD (and the orientation when needed). Otherwise nothing but, when
    ``keep_orientation`` and rendering needs it, a minimal block with the orientation.
    ``None`` means keep nothing of the block.
    """
    if location_only:
        try:
            kept, gps = remove_gps(tiff)
        except ExifError:
            report.remove("exif")
            return None
        report.remove("gps", gps)
        report.keep("exif")
        return kept
    orientation = needs_orientation(info) if keep_orientation else None
    if keep_gps and info.families.get("gps"):
        try:
            rebuilt = gps_only_exif(tiff, orientation)
        except ExifError:
            rebuilt = None
        if rebuilt is not None:
            for family, count in info.families.items():
                if family != "gps":
                    report.remove(family, count)
            report.keep("gps")
            if orientation is not None:
                report.keep("orientation")
            return rebuilt
    for family, count in info.families.items():
        report.remove(family, count)
    if orientation is None:
        return None
    report.keep("orientation")
    return minimal_exif(orientation)


def minimal_exif(orientation: int) -> bytes:
    """TIFF bytes holding only the Orientation tag (big-endian, one IFD)."""
    return (
        b"MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">H", 1)
        + struct.pack(">HHIHH", ORIENTATION, 3, 1, orientation, 0)
        + b"\x00\x00\x00\x00"
    )


def needs_orientation(info: ExifInfo | None) -> int | None:
    """The orientation to preserve (2..8), or ``None`` when nothing is needed."""
    if info is None or info.orientation is None:
        return None
    return info.orientation if 2 <= info.orientation <= 8 else None


def remove_gps(data: bytes) -> tuple[bytes, int]:
    """Remove the GPS IFD from TIFF bytes without changing their length.

    The GPS pointer entry is deleted from its IFD (later entries shift up, the freed
    slot is zeroed) and the GPS IFD with its out-of-line values is zero-filled, so
    every other offset (maker notes included) stays valid. Returns the new bytes and
    the number of GPS tags removed.
    """
    tiff = _Tiff(data)
    out = bytearray(data)
    removed = 0
    for kind, ifd in _walk(tiff):
        if kind not in ("main", "thumbnail"):
            continue
        gps = [e for e in ifd.entries if e.tag == _GPS_IFD]
        if not gps:
            continue
        gps_ifd = tiff.ifd(tiff.short(gps[0]))
        for e in gps_ifd.entries:
            removed += 1
            if e.size > 4 and e.value_at >= 0 and e.value_at + e.size <= len(out):
                out[e.value_at : e.value_at + e.size] = bytes(e.size)
        out[gps_ifd.offset : gps_ifd.next_at + 4] = bytes(gps_ifd.next_at + 4 - gps_ifd.offset)
        kept = [e for e in ifd.entries if e.tag != _GPS_IFD]
        start = ifd.offset
        body = b"".join(data[e.entry_at : e.entry_at + 12] for e in kept)
        block = struct.pack(tiff.e + "H", len(kept)) + body + data[ifd.next_at : ifd.next_at + 4]
        total = ifd.next_at + 4 - start
        out[start : start + total] = block + bytes(total - len(block))
    return bytes(out), removed


def gps_only_exif(data: bytes, orientation: int | None) -> bytes | None:
    """New TIFF bytes (same byte order) holding only the GPS IFD of ``data`` and, when
    given, the orientation; ``None`` when ``data`` has no GPS IFD.

    Raises:
        ExifError: the GPS IFD is malformed.
    """
    tiff = _Tiff(data)
    gps = next((ifd for kind, ifd in _walk(tiff) if kind == "gps"), None)
    if gps is None or not gps.entries:
        return None
    e = tiff.e
    main: list[tuple[int, int, int, bytes]] = []
    if orientation is not None:
        main.append((ORIENTATION, 3, 1, struct.pack(e + "HH", orientation, 0)))
    gps_at = 8 + 2 + 12 * (len(main) + 1) + 4
    main.append((_GPS_IFD, 4, 1, struct.pack(e + "I", gps_at)))
    values_at = gps_at + 2 + 12 * len(gps.entries) + 4
    entries, values = bytearray(), bytearray()
    for entry in sorted(gps.entries, key=lambda x: x.tag):
        raw = tiff.value(entry)
        if entry.size <= 4:
            inline = raw + bytes(4 - len(raw))
        else:
            inline = struct.pack(e + "I", values_at + len(values))
            values += raw + bytes(len(raw) % 2)  # values start on a word boundary
        entries += struct.pack(e + "HHI", entry.tag, entry.type, entry.count) + inline
    head = (b"II\x2a\x00" if e == "<" else b"MM\x00\x2a") + struct.pack(e + "I", 8)
    ifd0 = struct.pack(e + "H", len(main)) + b"".join(
        struct.pack(e + "HHI", tag, typ, count) + value for tag, typ, count, value in main
    )
    out = head + ifd0 + bytes(4)
    out += struct.pack(e + "H", len(gps.entries)) + bytes(entries) + bytes(4) + bytes(values)
    return out
