"""HEIF/HEIC/AVIF: remove metadata items and properties without moving image data.

The ``meta`` box is rebuilt without the Exif/XMP/MIME/URI items (``iinf``, ``iloc``,
``iref``, ``ipma``) and without privacy-relevant properties (user description,
creation/modification times); the bytes it no longer needs become a ``free`` box so
every absolute offset in ``iloc`` stays valid. In the other top-level boxes only the
bytes referenced by kept items are copied; everything else (removed items' data,
orphaned bytes, sequence tracks) is zero-filled or dropped when nothing follows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from charter.photos import _tiff, _xmp
from charter.photos._bmff import Box, BoxError, Reader, iter_boxes, make_box, parse_header
from charter.photos._io import CountingSink, Source
from charter.photos.errors import ErrorCode
from charter.photos.options import StripOptions
from charter.photos.report import ReportBuilder

_MAX_META = 64 << 20
_MAX_ITEM = 16 << 20
_META_KEEP = frozenset({b"hdlr", b"pitm", b"iloc", b"iinf", b"iref", b"iprp", b"idat", b"dinf",
                        b"grpl", b"ipro"})  # fmt: skip
_TOP_KNOWN = frozenset({b"ftyp", b"meta", b"mdat", b"moov", b"free", b"skip", b"uuid", b"idat",
                        b"moof", b"mfra", b"styp", b"sidx", b"pdin", b"etyp"})  # fmt: skip
_PROPERTY_FAMILY = {b"udes": "description", b"crtt": "datetime", b"mdft": "datetime",
                    b"itai": "datetime"}  # fmt: skip
_XMP_TYPES = frozenset({b"application/rdf+xml", b"application/xmp+xml", b"text/xml"})


@dataclass(slots=True)
class _Loc:
    method: int
    extents: list[tuple[int, int]]
    raw: bytes


@dataclass(slots=True)
class _Interval:
    start: int
    end: int
    data: bytes | None = None  # None: copy from the input


@dataclass(slots=True)
class _Plan:
    meta: bytes = b""
    pad: int = 0
    keep: list[_Interval] = field(default_factory=list)


class _HeifStripper:
    def __init__(self, src: Source, options: StripOptions, report: ReportBuilder) -> None:
        self.src = src
        self.options = options
        self.report = report
        self.size = 0
        self.boxes: list[Box] = []
        self.meta_box: Box | None = None
        self.meta = b""
        self.items: dict[int, tuple[bytes, bytes]] = {}  # id -> (type, content type)
        self.locs: dict[int, _Loc] = {}
        self.idat: Box | None = None
        self.removed: set[int] = set()
        self.patches: dict[int, bytes] = {}  # item id -> new content (same length)
        self.plan = _Plan()

    # -- top level -----------------------------------------------------------------
    def scan(self) -> None:
        self.size = self.src.size()
        at = 0
        while at < self.size:
            self.src.seek(at)
            head = self.src.read_upto(32)
            try:
                box = parse_header(head, at, self.size)
            except BoxError:
                if at == 0 or (head[4:8] in _TOP_KNOWN and len(head) >= 8):
                    raise self.src.truncated("a HEIF box") from None
                self.report.remove("trailer")
                break
            if box.type not in _TOP_KNOWN and not box.type.isascii():
                self.report.remove("trailer")
                break
            self.boxes.append(box)
            at = box.end
        if not self.boxes or self.boxes[0].type != b"ftyp":
            raise self.src.corrupt("the HEIF file does not start with a file-type box")
        metas = [b for b in self.boxes if b.type == b"meta"]
        if len(metas) != 1:
            raise self.src.corrupt("the HEIF file must have exactly one metadata box")
        self.meta_box = metas[0]
        if self.meta_box.size > _MAX_META:
            raise self.src.error(ErrorCode.TOO_LARGE, "the HEIF metadata box is too large")
        self.src.seek(self.meta_box.start)
        self.meta = self.src.read_exact(self.meta_box.size, "the HEIF metadata box")

    # -- meta parsing ----------------------------------------------------------------
    def _children(self) -> list[Box]:
        assert self.meta_box is not None
        return list(iter_boxes(self.meta, self.meta_box.header + 4, len(self.meta)))

    def parse(self) -> None:
        children = self._children()
        for child in children:
            if child.type == b"iinf":
                self._parse_iinf(child)
            elif child.type == b"iloc":
                self._parse_iloc(child)
            elif child.type == b"idat":
                self.idat = child
        for item_id, (kind, content) in self.items.items():
            self._decide(item_id, kind, content)
        self.plan.meta = self._rebuild_meta(children)
        self.plan.pad = self.meta_box.size - len(self.plan.meta) if self.meta_box else 0
        if 0 < self.plan.pad < 8 or self.plan.pad < 0:
            raise self.src.corrupt("the HEIF metadata box cannot be rewritten in place")
        self._plan_regions()

    def _parse_iinf(self, box: Box) -> None:
        r = Reader(self.meta, box.body, box.end)
        version = r.uint(1)
        r.take(3)
        r.uint(2 if version == 0 else 4)
        for infe in iter_boxes(self.meta, r.at, box.end):
            if infe.type != b"infe":
                continue
            e = Reader(self.meta, infe.body, infe.end)
            v = e.uint(1)
            e.take(3)
            if v < 2:
                item_id, kind, content = e.uint(2), b"", b""
            else:
                item_id = e.uint(2 if v == 2 else 4)
                e.uint(2)
                kind = e.take(4)
                e.cstring()
                content = e.cstring() if kind == b"mime" else b""
            self.items[item_id] = (kind, content)

    def _parse_iloc(self, box: Box) -> None:
        r = Reader(self.meta, box.body, box.end)
        version = r.uint(1)
        r.take(3)
        sizes = r.uint(1)
        offset_size, length_size = sizes >> 4, sizes & 15
        sizes = r.uint(1)
        base_size, index_size = sizes >> 4, (sizes & 15 if version in (1, 2) else 0)
        if not {offset_size, length_size, base_size, index_size} <= {0, 4, 8}:
            raise BoxError("iloc field size")
        count = r.uint(2 if version < 2 else 4)
        for _ in range(count):
            start = r.at
            item_id = r.uint(2 if version < 2 else 4)
            method = r.uint(2) & 0xF if version in (1, 2) else 0
            r.uint(2)
            base = r.uint(base_size)
            extents = []
            for _ in range(r.uint(2)):
                r.uint(index_size)
                extents.append((base + r.uint(offset_size), r.uint(length_size)))
            self.locs[item_id] = _Loc(method, extents, self.meta[start : r.at])

    # -- decisions -------------------------------------------------------------------
    def _item_bytes(self, loc: _Loc) -> bytes | None:
        total = sum(length for _, length in loc.extents)
        if total > _MAX_ITEM or loc.method not in (0, 1):
            return None
        parts = []
        for offset, length in loc.extents:
            if loc.method == 1:
                if self.idat is None:
                    return None
                start = self.idat.body + offset
                stop = self.idat.end if length == 0 else start + length
                if stop > self.idat.end:
                    return None
                parts.append(self.meta[start:stop])
            else:
                n = self.size - offset if length == 0 else length
                if offset + n > self.size or n > _MAX_ITEM:
                    return None
                self.src.seek(offset)
                parts.append(self.src.read_exact(n, "a HEIF metadata item"))
        return b"".join(parts)

    def _decide(self, item_id: int, kind: bytes, content: bytes) -> None:
        is_exif = kind == b"Exif"
        is_xmp = kind == b"mime" and content.split(b";")[0].strip() in _XMP_TYPES
        if kind not in (b"", b"Exif", b"mime", b"uri "):
            return  # an image item (coded, grid, overlay, derived...)
        self.removed.add(item_id)
        loc = self.locs.get(item_id)
        data = self._item_bytes(loc) if loc is not None else None
        if not (is_exif or is_xmp) or data is None:
            self.report.remove("exif" if is_exif else "xmp" if is_xmp else "vendor")
            return
        new = self._exif(data) if is_exif else self._xmp(data)
        if new is not None and len(new) == len(data):
            self.removed.discard(item_id)
            self.patches[item_id] = new

    def _exif(self, data: bytes) -> bytes | None:
        skip = 4 + int.from_bytes(data[:4], "big") if len(data) >= 4 else len(data)
        tiff = data[skip:]
        info = _tiff.safe_read_exif(tiff, self.report)
        if info is None:
            self.report.remove("exif")
            return None
        # HEIF keeps rotation in its own item properties: no orientation block here.
        kept = _tiff.reduce_exif(
            tiff,
            info,
            self.report,
            location_only=self.options.location_only and "exif" not in self.report.kept,
            keep_orientation=False,
            keep_gps=self.options.keeps_location and "gps" not in self.report.kept,
        )
        if kept is None:
            return None
        if self.options.keeps_location and len(kept) < len(tiff):  # patched in place
            kept += bytes(len(tiff) - len(kept))
        return data[:skip] + kept

    def _xmp(self, data: bytes) -> bytes | None:
        if self.report.collecting:
            for name, value in _xmp.properties(data):
                self.report.value("xmp", name, value)
        if self.options.location_only and "xmp" not in self.report.kept:
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

    # -- meta rebuilding -------------------------------------------------------------
    def _rebuild_meta(self, children: list[Box]) -> bytes:
        assert self.meta_box is not None
        out = [self.meta[self.meta_box.header : self.meta_box.header + 4]]
        for child in children:
            raw = self.meta[child.start : child.end]
            if child.type == b"iinf":
                out.append(self._rebuild_iinf(child))
            elif child.type == b"iloc":
                out.append(self._rebuild_iloc(child))
            elif child.type == b"iref":
                out.append(self._rebuild_iref(child))
            elif child.type == b"iprp":
                out.append(self._rebuild_iprp(child))
            elif child.type == b"idat":
                out.append(self._patch_idat(child))
            elif child.type in _META_KEEP:
                out.append(raw)
            else:
                self.report.remove("vendor")
        return make_box(b"meta", b"".join(out))

    def _rebuild_iinf(self, box: Box) -> bytes:
        version = self.meta[box.body]
        width = 2 if version == 0 else 4
        kept = []
        for infe in iter_boxes(self.meta, box.body + 4 + width, box.end):
            if infe.type == b"infe":
                e = Reader(self.meta, infe.body, infe.end)
                v = e.uint(1)
                e.take(3)
                item_id = e.uint(2 if v <= 2 else 4)
                if item_id in self.removed:
                    continue
            kept.append(self.meta[infe.start : infe.end])
        head = self.meta[box.body : box.body + 4] + len(kept).to_bytes(width, "big")
        return make_box(b"iinf", head + b"".join(kept))

    def _rebuild_iloc(self, box: Box) -> bytes:
        version = self.meta[box.body]
        width = 2 if version < 2 else 4
        kept = [loc.raw for item_id, loc in self.locs.items() if item_id not in self.removed]
        head = self.meta[box.body : box.body + 6] + len(kept).to_bytes(width, "big")
        return make_box(b"iloc", head + b"".join(kept))

    def _rebuild_iref(self, box: Box) -> bytes:
        width = 2 if self.meta[box.body] == 0 else 4
        refs = []
        for ref in iter_boxes(self.meta, box.body + 4, box.end):
            r = Reader(self.meta, ref.body, ref.end)
            source = r.uint(width)
            targets = [r.uint(width) for _ in range(r.uint(2))]
            kept = [t for t in targets if t not in self.removed]
            if source in self.removed or not kept:
                continue
            body = source.to_bytes(width, "big") + struct.pack(">H", len(kept))
            refs.append(make_box(ref.type, body + b"".join(t.to_bytes(width, "big") for t in kept)))
        return make_box(b"iref", self.meta[box.body : box.body + 4] + b"".join(refs))

    def _rebuild_iprp(self, box: Box) -> bytes:
        children = list(iter_boxes(self.meta, box.body, box.end))
        mapping: dict[int, int] = {0: 0}
        out = []
        for child in children:
            if child.type == b"ipco":
                out.append(self._rebuild_ipco(child, mapping))
        for child in children:
            if child.type == b"ipma":
                out.append(self._rebuild_ipma(child, mapping))
            elif child.type != b"ipco":
                out.append(self.meta[child.start : child.end])
        return make_box(b"iprp", b"".join(out))

    def _rebuild_ipco(self, box: Box, mapping: dict[int, int]) -> bytes:
        kept = []
        for index, prop in enumerate(iter_boxes(self.meta, box.body, box.end), start=1):
            family = _PROPERTY_FAMILY.get(prop.type)
            if prop.type == b"colr" and self.meta[prop.body : prop.body + 4] in (b"prof", b"rICC"):
                family = "icc" if self.options.drop_icc else None
                if family is None:
                    self.report.keep("icc")
            if prop.type in (b"irot", b"imir"):
                self.report.keep("orientation")
            if family is not None:
                self.report.remove(family)
                continue
            kept.append(self.meta[prop.start : prop.end])
            mapping[index] = len(kept)
        return make_box(b"ipco", b"".join(kept))

    def _rebuild_ipma(self, box: Box, mapping: dict[int, int]) -> bytes:
        r = Reader(self.meta, box.body, box.end)
        version, flags = r.uint(1), r.uint(3)
        wide, id_width = bool(flags & 1), 2 if version < 1 else 4
        mask, bit = (0x7FFF, 0x8000) if wide else (0x7F, 0x80)
        entries = []
        for _ in range(r.uint(4)):
            item_id = r.uint(id_width)
            assocs = [r.uint(2 if wide else 1) for _ in range(r.uint(1))]
            if item_id in self.removed:
                continue
            new = [(a & bit) | mapping[a & mask] for a in assocs if (a & mask) in mapping]
            entries.append(
                item_id.to_bytes(id_width, "big")
                + bytes([len(new)])
                + b"".join(a.to_bytes(2 if wide else 1, "big") for a in new)
            )
        head = self.meta[box.body : box.body + 4] + struct.pack(">I", len(entries))
        return make_box(b"ipma", head + b"".join(entries))

    def _patch_idat(self, box: Box) -> bytes:
        data = bytearray(self.meta[box.start : box.end])
        for item_id, loc in self.locs.items():
            if loc.method != 1:
                continue
            new = self.patches.get(item_id)
            if item_id not in self.removed and new is None:
                continue
            pos = 0
            for offset, length in loc.extents:
                start = box.header + offset
                stop = len(data) if length == 0 else min(len(data), start + length)
                if start >= stop:
                    continue
                chunk = bytes(stop - start) if new is None else new[pos : pos + stop - start]
                data[start:stop] = chunk
                pos += stop - start
        return bytes(data)

    # -- regions of the other boxes --------------------------------------------------
    def _plan_regions(self) -> None:
        for item_id, loc in self.locs.items():
            if item_id in self.removed or loc.method != 0:
                continue
            new = self.patches.get(item_id)
            pos = 0
            for offset, length in loc.extents:
                stop = self.size if length == 0 else min(self.size, offset + length)
                if new is None:
                    self.plan.keep.append(_Interval(offset, stop))
                else:
                    self.plan.keep.append(_Interval(offset, stop, new[pos : pos + stop - offset]))
                    pos += max(0, stop - offset)
        self.plan.keep.sort(key=lambda i: i.start)

    def _needed(self, box: Box) -> bool:
        if box.type == b"ftyp" or box is self.meta_box:
            return True
        return any(i.start < box.end and i.end > box.body for i in self.plan.keep)

    # -- output ----------------------------------------------------------------------
    def write(self, dst: CountingSink) -> None:
        needed = [self._needed(b) for b in self.boxes]
        for index, box in enumerate(self.boxes):
            if box is self.meta_box:
                dst.write(self.plan.meta)
                if self.plan.pad:
                    dst.write(struct.pack(">I4s", self.plan.pad, b"free"))
                    dst.zeros(self.plan.pad - 8)
            elif box.type == b"ftyp":
                self.src.seek(box.start)
                self.src.copy(dst, box.size, "the HEIF file-type box")
            elif needed[index]:
                self._write_regions(dst, box)
            else:
                if box.type == b"moov":
                    self.report.remove("sequence")
                elif box.type not in (b"mdat", b"free", b"skip"):
                    self.report.remove("vendor")
                if any(needed[index + 1 :]):
                    self._write_free(dst, box.size)

    @staticmethod
    def _write_free(dst: CountingSink, size: int) -> None:
        if size < 1 << 32:
            dst.write(struct.pack(">I4s", size, b"free"))
            dst.zeros(size - 8)
        else:
            dst.write(struct.pack(">I4sQ", 1, b"free", size))
            dst.zeros(size - 16)

    def _write_regions(self, dst: CountingSink, box: Box) -> None:
        intervals = [_Interval(box.start, box.body), *self.plan.keep]
        pos = box.start
        for iv in intervals:
            start, end = max(iv.start, pos), min(iv.end, box.end)
            if end <= start:
                continue
            if start > pos:
                dst.zeros(start - pos)
            if iv.data is None:
                self.src.seek(start)
                self.src.copy(dst, end - start, "HEIF image data")
            else:
                dst.write(iv.data[start - iv.start : end - iv.start])
            pos = end
        if pos < box.end:
            dst.zeros(box.end - pos)


def strip_heif(
    src: Source, dst: CountingSink, options: StripOptions, report: ReportBuilder
) -> None:
    """Copy a HEIF/HEIC/AVIF from ``src`` (seekable) to ``dst`` without metadata."""
    stripper = _HeifStripper(src, options, report)
    stripper.scan()
    try:
        stripper.parse()
    except BoxError:
        raise src.corrupt("the HEIF metadata box is malformed") from None
    stripper.write(dst)
