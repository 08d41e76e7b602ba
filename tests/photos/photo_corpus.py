"""Test corpus: small photos with privacy metadata injected at byte level.

Every metadata value carries a ``CANARY`` marker so an independent byte scan can tell
whether anything survived. Nothing here uses the code under test.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms

pillow_heif.register_heif_opener()

CANARY = b"CANARY"
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/\x00"


@dataclass(frozen=True)
class Sample:
    """One corpus photo and what a stripped copy must look like."""

    name: str
    data: bytes
    fmt: str  # jpeg, png, webp, heif
    orientation: int = 1


# -- images -------------------------------------------------------------------------
def base_image(mode: str = "RGB", size: tuple[int, int] = (48, 32), seed: int = 0) -> Image.Image:
    """A small image with varied pixels (a gradient with a pattern)."""
    w, h = size
    im = Image.new("RGB", size)
    im.putdata(
        [
            ((x * 5 + seed) % 256, (y * 7 + seed * 3) % 256, ((x ^ y) * 9) % 256)
            for y in range(h)
            for x in range(w)
        ]
    )
    return im.convert(mode) if mode != "RGB" else im


# -- EXIF (TIFF) builder ------------------------------------------------------------
Entry = tuple[int, int, int, bytes]  # tag, type, count, packed value


def ascii_tag(tag: int, text: str) -> Entry:
    raw = text.encode() + b"\x00"
    return (tag, 2, len(raw), raw)


def short_tag(tag: int, value: int, e: str = "<") -> Entry:
    return (tag, 3, 1, struct.pack(e + "H", value))


def rational_tag(tag: int, values: list[tuple[int, int]], e: str = "<") -> Entry:
    return (tag, 5, len(values), b"".join(struct.pack(e + "II", a, b) for a, b in values))


def undefined_tag(tag: int, raw: bytes) -> Entry:
    return (tag, 7, len(raw), raw)


def _block(entries: list[Entry], start: int, e: str, next_ifd: int = 0) -> bytes:
    entries = sorted(entries)
    data_at = start + 2 + 12 * len(entries) + 4
    head, blob = struct.pack(e + "H", len(entries)), b""
    for tag, typ, count, raw in entries:
        if len(raw) <= 4:
            head += struct.pack(e + "HHI", tag, typ, count) + raw.ljust(4, b"\x00")
        else:
            head += struct.pack(e + "HHII", tag, typ, count, data_at + len(blob))
            blob += raw + (b"\x00" if len(raw) & 1 else b"")
    return head + struct.pack(e + "I", next_ifd) + blob


def thumbnail_jpeg() -> bytes:
    """A tiny JPEG with a canary comment, as cameras embed in EXIF."""
    buf = io.BytesIO()
    base_image(size=(16, 12), seed=9).save(buf, "JPEG", comment=b"CANARY-THUMB")
    return buf.getvalue()


def build_exif(
    *, orientation: int | None = 1, gps: bool = True, thumbnail: bool = True, e: str = "<"
) -> bytes:
    """TIFF bytes with device, date, owner, maker note, GPS and a thumbnail."""
    ifd0 = [
        ascii_tag(0x010F, "CANARY-Make"),
        ascii_tag(0x0110, "CANARY-Model"),
        ascii_tag(0x0132, "2011:11:11 11:11:11"),
        ascii_tag(0x013B, "CANARY-Artist"),
        ascii_tag(0x0131, "CANARY-Software"),
    ]
    if orientation is not None:
        ifd0.append(short_tag(0x0112, orientation, e))
    exif = [
        ascii_tag(0x9003, "2011:11:11 11:11:11"),
        ascii_tag(0xA431, "CANARY-SERIAL-0042"),
        ascii_tag(0xA435, "CANARY-LENS-SERIAL"),
        undefined_tag(0x927C, b"CANARY-MAKERNOTE" + bytes(range(32))),
        undefined_tag(0x9286, b"ASCII\x00\x00\x00CANARY-USERCOMMENT"),
    ]
    gps_entries = [
        (0x0000, 1, 4, b"\x02\x03\x00\x00"),
        ascii_tag(0x0001, "N"),
        rational_tag(0x0002, [(48, 1), (51, 1), (2950, 100)], e),
        ascii_tag(0x0003, "E"),
        rational_tag(0x0004, [(2, 1), (17, 1), (4000, 100)], e),
        undefined_tag(0x001B, b"ASCII\x00\x00\x00CANARY-GPS-METHOD"),
    ]
    thumb = thumbnail_jpeg()
    ptr = (0x8769, 4, 1, b"\x00" * 4)
    ifd0_full = [*ifd0, ptr] + ([(0x8825, 4, 1, b"\x00" * 4)] if gps else [])
    size0 = len(_block(ifd0_full, 8, e))
    exif_at = 8 + size0
    size_exif = len(_block(exif, exif_at, e))
    gps_at = exif_at + size_exif
    size_gps = len(_block(gps_entries, gps_at, e)) if gps else 0
    ifd1_at = gps_at + size_gps
    ifd1_entries = [(0x0201, 4, 1, b"\x00" * 4), (0x0202, 4, 1, struct.pack(e + "I", len(thumb)))]
    size1 = len(_block(ifd1_entries, ifd1_at, e))
    thumb_at = ifd1_at + size1
    ifd1_entries[0] = (0x0201, 4, 1, struct.pack(e + "I", thumb_at))
    ifd0_final = [*ifd0, (0x8769, 4, 1, struct.pack(e + "I", exif_at))]
    if gps:
        ifd0_final.append((0x8825, 4, 1, struct.pack(e + "I", gps_at)))
    out = (b"II*\x00" if e == "<" else b"MM\x00*") + struct.pack(e + "I", 8)
    out += _block(ifd0_final, 8, e, ifd1_at if thumbnail else 0)
    out += _block(exif, exif_at, e)
    if gps:
        out += _block(gps_entries, gps_at, e)
    if thumbnail:
        out += _block(ifd1_entries, ifd1_at, e) + thumb
    return out


def xmp_packet(extended_guid: str | None = None) -> bytes:
    """An XMP packet with location, device and date properties."""
    ext = f' xmpNote:HasExtendedXMP="{extended_guid}"' if extended_guid else ""
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
        'xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" '
        'exif:GPSLatitude="48,51.4917N" exif:GPSLongitude="2,17.6667E" '
        'photoshop:City="CANARY-XMP-CITY" xmp:CreateDate="2011-11-11T11:11:11" '
        f'xmp:CreatorTool="CANARY-XMP-TOOL"{ext}>'
        "<Iptc4xmpCore:Location>CANARY-XMP-LOCATION</Iptc4xmpCore:Location>"
        "<exif:GPSAltitude>35/1</exif:GPSAltitude>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def iptc_block() -> bytes:
    """A Photoshop IRB with IPTC city, caption and by-line."""

    def ds(dataset: int, value: bytes) -> bytes:
        return b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(value)) + value

    iptc = ds(90, b"CANARY-IPTC-CITY") + ds(120, b"CANARY-IPTC-CAPTION") + ds(80, b"CANARY-BY")
    iptc += b"\x00" * (len(iptc) & 1)
    res = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    res += b"8BIM" + struct.pack(">H", 0x040C) + b"\x00\x00" + struct.pack(">I", 14)
    res += b"CANARY-THUMB-2"
    return b"Photoshop 3.0\x00" + res


# -- JPEG -----------------------------------------------------------------------------
def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def extended_xmp_segments(guid: str, parts: int = 3) -> list[bytes]:
    body = ("<x:xmpmeta>" + "CANARY-EXTXMP " * 900 + "</x:xmpmeta>").encode()
    step = -(-len(body) // parts)
    return [
        segment(
            0xE1,
            XMP_EXT_ID
            + guid.encode()
            + struct.pack(">II", len(body), off)
            + body[off : off + step],
        )
        for off in range(0, len(body), step)
    ]


def jpeg_metadata_segments(orientation: int | None) -> list[bytes]:
    guid = "0123456789ABCDEF0123456789ABCDEF"
    return [
        segment(0xE1, b"Exif\x00\x00" + build_exif(orientation=orientation)),
        segment(0xE1, XMP_ID + xmp_packet(guid)),
        *extended_xmp_segments(guid),
        segment(0xED, iptc_block()),
        segment(0xE2, b"MPF\x00MM\x00*\x00\x00\x00\x08CANARY-MPF"),
        segment(0xE5, b"CANARY-VENDOR-APP5"),
        segment(0xEC, b"Ducky\x00CANARY-DUCKY"),
        segment(0xFE, b"CANARY-COMMENT"),
    ]


def inject_jpeg(base: bytes, segments: list[bytes], trailer: bytes = b"") -> bytes:
    """Insert segments right after SOI (and a JFIF APP0) and append a trailer."""
    at = 2
    if base[2:4] == b"\xff\xe0":
        at += 2 + struct.unpack(">H", base[4:6])[0]
    return base[:at] + b"".join(segments) + base[at:] + trailer


def jpeg_bytes(im: Image.Image, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def jpeg_trailer() -> bytes:
    return b"CANARY-TRAILER" + jpeg_bytes(base_image(size=(8, 8), seed=3), comment=b"CANARY-2ND")


# -- PNG ------------------------------------------------------------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    at, out = 8, []
    while at < len(data):
        n = struct.unpack(">I", data[at : at + 4])[0]
        out.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + n]))
        at += 12 + n
    return out


def png_metadata_chunks(orientation: int | None) -> list[bytes]:
    itxt_xmp = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp_packet()
    return [
        png_chunk(b"tEXt", b"Comment\x00CANARY-PNG-TEXT"),
        png_chunk(b"zTXt", b"Author\x00\x00" + zlib.compress(b"CANARY-PNG-ZTXT")),
        png_chunk(b"iTXt", b"Title\x00\x00\x00en\x00\x00CANARY-PNG-ITXT"),
        png_chunk(b"iTXt", itxt_xmp),
        png_chunk(b"eXIf", build_exif(orientation=orientation, e=">")),
        png_chunk(b"tIME", struct.pack(">HBBBBB", 2011, 11, 11, 11, 11, 11)),
        png_chunk(b"vpAg", b"CANARY-VENDOR-PNG"),
    ]


def build_png(im: Image.Image, chunks: list[bytes], trailer: bytes = b"", **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    parts = png_chunks(buf.getvalue())
    head = [png_chunk(k, d) for k, d in parts if k != b"IEND"]
    return (
        b"\x89PNG\r\n\x1a\n"
        + head[0]
        + b"".join(chunks)
        + b"".join(head[1:])
        + png_chunk(b"IEND", b"")
        + trailer
    )


# -- WebP -----------------------------------------------------------------------------
def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    at, out = 12, []
    end = 8 + struct.unpack("<I", data[4:8])[0]
    while at < end:
        kind, n = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        out.append((kind, data[at + 8 : at + 8 + n]))
        at += 8 + n + (n & 1)
    return out


def riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(k + struct.pack("<I", len(d)) + d + b"\x00" * (len(d) & 1) for k, d in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def build_webp(im: Image.Image, orientation: int | None, *, lossless: bool = True) -> bytes:
    buf = io.BytesIO()
    im.save(
        buf,
        "WEBP",
        lossless=lossless,
        exif=b"Exif\x00\x00" + build_exif(orientation=orientation),
        xmp=xmp_packet(),
        icc_profile=SRGB_ICC,
    )
    chunks = riff_chunks(buf.getvalue())
    chunks.append((b"ZZZZ", b"CANARY-VENDOR-WEBP"))
    return riff(chunks) + b"CANARY-WEBP-TRAILER"


# -- HEIF -----------------------------------------------------------------------------
def build_heif(im: Image.Image, orientation: int | None) -> bytes:
    buf = io.BytesIO()
    exif = b"Exif\x00\x00" + build_exif(orientation=orientation, thumbnail=False)
    im.save(buf, "HEIF", exif=exif, xmp=xmp_packet(), icc_profile=SRGB_ICC, quality=90)
    return buf.getvalue()


# -- the corpus -----------------------------------------------------------------------
def build_corpus() -> list[Sample]:
    """All sample photos."""
    out: list[Sample] = []
    for n in range(1, 9):
        im = base_image(seed=n)
        base = jpeg_bytes(im, quality=90, icc_profile=SRGB_ICC)
        out.append(
            Sample(
                f"orient{n}.jpg",
                inject_jpeg(base, jpeg_metadata_segments(n), jpeg_trailer()),
                "jpeg",
                n,
            )
        )
        out.append(
            Sample(
                f"orient{n}.png",
                build_png(im, png_metadata_chunks(n), b"CANARY-PNG-TAIL", icc_profile=SRGB_ICC),
                "png",
                n,
            )
        )
        out.append(Sample(f"orient{n}.webp", build_webp(im, n), "webp", n))
    prog = jpeg_bytes(base_image(seed=11), progressive=True, quality=85)
    out.append(Sample("progressive.jpg", inject_jpeg(prog, jpeg_metadata_segments(6)), "jpeg", 6))
    cmyk = jpeg_bytes(base_image("CMYK", seed=12), quality=95)
    out.append(
        Sample("cmyk.jpg", inject_jpeg(cmyk, jpeg_metadata_segments(1), jpeg_trailer()), "jpeg", 1)
    )
    gray = jpeg_bytes(base_image("L", seed=13), restart_marker_blocks=2)
    out.append(Sample("gray-restart.jpg", inject_jpeg(gray, jpeg_metadata_segments(3)), "jpeg", 3))
    big_endian = segment(0xE1, b"Exif\x00\x00" + build_exif(orientation=8, e=">"))
    out.append(
        Sample(
            "bigendian.jpg", inject_jpeg(jpeg_bytes(base_image(seed=14)), [big_endian]), "jpeg", 8
        )
    )
    pal = base_image(seed=15).convert("P")
    out.append(Sample("palette.png", build_png(pal, png_metadata_chunks(1)), "png", 1))
    rgba = base_image("RGBA", seed=16)
    out.append(Sample("alpha.webp", build_webp(rgba, 5, lossless=False), "webp", 5))
    for n in (1, 6):
        out.append(Sample(f"photo{n}.heic", build_heif(base_image(seed=20 + n), n), "heif", 1))
    return out
