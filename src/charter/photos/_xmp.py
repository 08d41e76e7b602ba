"""XMP packets: location filtering that keeps the packet length, property listing.

Removed properties are overwritten with spaces, which XMP allows (packets are
designed for in-place editing with padding), so the packet keeps its size and no
container offset has to move. If anything location-like survives the filter the
caller drops the whole packet (fail-safe).
"""

from __future__ import annotations

import re

XMP_JPEG_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_JPEG_ID = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"

_LOCATION = (
    rb"(?:GPS[\w]*|City|State|Country|CountryCode|CountryName|Location|LocationCreated"
    rb"|LocationShown|LocationName|LocationId|Sublocation|ProvinceState|WorldRegion"
    rb"|Latitude|Longitude|Altitude)"
)
_QNAME = rb"[A-Za-z_][\w.-]*:"
_ELEMENT = re.compile(
    rb"<(" + _QNAME + _LOCATION + rb")(?=[\s/>])[^>]*?(?:/>|>.*?</\1\s*>)", re.DOTALL
)
_ATTRIBUTE = re.compile(rb"\s" + _QNAME + _LOCATION + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_LEFTOVER = re.compile(_QNAME + _LOCATION + rb"(?=[\s=/>])")
_HAS_EXTENDED = re.compile(
    rb"\s" + _QNAME + rb"HasExtendedXMP\s*=\s*(?:\"[^\"]*\"|'[^']*')"
    rb"|<(" + _QNAME + rb"HasExtendedXMP)[^>]*?(?:/>|>.*?</\1\s*>)",
    re.DOTALL,
)
_PROPERTY = re.compile(
    rb"\s(" + _QNAME + rb"\w+)\s*=\s*\"([^\"]*)\"|<(" + _QNAME + rb"\w+)>([^<]*)</\3>"
)


class XmpError(ValueError):
    """Internal: the packet cannot be filtered safely."""


def _blank(match: re.Match[bytes]) -> bytes:
    return b" " * (match.end() - match.start())


def remove_location(packet: bytes) -> tuple[bytes, int]:
    """Blank location properties (GPS, city, country...) and the extended-XMP link.

    Returns the same-length packet and the number of properties removed; raises
    :class:`XmpError` when the packet is not UTF-8 or location data would survive.
    """
    if b"\x00" in packet:
        raise XmpError("not UTF-8")
    out, n_elements = _ELEMENT.subn(_blank, packet)
    out, n_attributes = _ATTRIBUTE.subn(_blank, out)
    out = _HAS_EXTENDED.sub(_blank, out)
    if _LEFTOVER.search(out):
        raise XmpError("location survived")
    return out, n_elements + n_attributes


def properties(packet: bytes) -> list[tuple[str, str]]:
    """Simple ``(name, value)`` pairs of a packet, for inspection only."""
    out: list[tuple[str, str]] = []
    for m in _PROPERTY.finditer(packet):
        name = m.group(1) or m.group(3)
        value = m.group(2) if m.group(1) else m.group(4)
        if name.startswith((b"xmlns:", b"rdf:", b"x:")):
            continue
        out.append((name.decode("utf-8", "replace"), value.decode("utf-8", "replace").strip()))
    return out
