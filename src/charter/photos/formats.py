"""Detect the image container from its first bytes, never from the file name."""

from __future__ import annotations

from enum import StrEnum

HEAD_SIZE = 64
"""How many leading bytes :func:`detect_format` needs to decide."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


class PhotoFormat(StrEnum):
    """Supported photo containers."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIF = "heif"


_EXTENSIONS: dict[PhotoFormat, frozenset[str]] = {
    PhotoFormat.JPEG: frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    PhotoFormat.PNG: frozenset({".png", ".apng"}),
    PhotoFormat.WEBP: frozenset({".webp"}),
    PhotoFormat.HEIF: frozenset({".heic", ".heif", ".hif", ".avif"}),
}


def _ftyp_brands(head: bytes) -> set[bytes]:
    size = int.from_bytes(head[0:4], "big")
    end = min(len(head), size if size >= 16 else 16)
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def detect_format(head: bytes) -> PhotoFormat | None:
    """Return the container format of ``head`` (the file's first bytes) or ``None``."""
    if head.startswith(b"\xff\xd8\xff"):
        return PhotoFormat.JPEG
    if head.startswith(_PNG_SIGNATURE):
        return PhotoFormat.PNG
    if len(head) >= 12 and head[0:4] == b"RIFF" and head[8:12] == b"WEBP":
        return PhotoFormat.WEBP
    all_brands = _HEIC_BRANDS | _HEIF_BRANDS | _AVIF_BRANDS
    if len(head) >= 12 and head[4:8] == b"ftyp" and _ftyp_brands(head) & all_brands:
        return PhotoFormat.HEIF
    return None


def media_type(fmt: PhotoFormat, head: bytes = b"") -> str:
    """The IANA media type for ``fmt``; HEIF files are told apart by their brands."""
    if fmt is PhotoFormat.JPEG:
        return "image/jpeg"
    if fmt is PhotoFormat.PNG:
        return "image/png"
    if fmt is PhotoFormat.WEBP:
        return "image/webp"
    brands = _ftyp_brands(head) if head[4:8] == b"ftyp" else set()
    if head[8:12] in _AVIF_BRANDS:
        return "image/avif"
    if brands & _HEIC_BRANDS:
        return "image/heic"
    return "image/heif"


def extension_matches(fmt: PhotoFormat, suffix: str) -> bool:
    """Whether a file name suffix (``".jpg"``) is usual for ``fmt``."""
    return suffix.lower() in _EXTENSIONS[fmt]
