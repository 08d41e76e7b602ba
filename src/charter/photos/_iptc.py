"""Photoshop image resources (8BIM) and the IPTC-IIM records inside them."""

from __future__ import annotations

import struct

from charter.photos.report import ReportBuilder

_IPTC_RESOURCE = 0x0404
_MAX_RESOURCES = 10_000


def _count_iptc(data: bytes, report: ReportBuilder) -> int:
    count, at = 0, 0
    while at + 5 <= len(data) and data[at] == 0x1C and count < _MAX_RESOURCES:
        record, dataset = data[at + 1], data[at + 2]
        size = struct.unpack_from(">H", data, at + 3)[0]
        if size & 0x8000:  # extended length: skip the rest, it is dropped anyway
            return count + 1
        if report.collecting:
            value = data[at + 5 : at + 5 + size].decode("utf-8", "replace")
            report.value("iptc", f"IPTC{record}:{dataset}", value)
        count += 1
        at += 5 + size
    return count


def count_resources(data: bytes, report: ReportBuilder) -> tuple[int, int]:
    """Count ``(iptc_datasets, other_resources)`` in an 8BIM resource block.

    Malformed blocks are counted as one resource; the block is dropped either way.
    """
    iptc = other = 0
    at = 0
    while at + 12 <= len(data) and data[at : at + 4] == b"8BIM" and other < _MAX_RESOURCES:
        rid = struct.unpack_from(">H", data, at + 4)[0]
        name_len = data[at + 6]
        name_total = name_len + 1 + ((name_len + 1) & 1)
        size_at = at + 6 + name_total
        if size_at + 4 > len(data):
            break
        size = struct.unpack_from(">I", data, size_at)[0]
        body = data[size_at + 4 : size_at + 4 + size]
        if rid == _IPTC_RESOURCE:
            iptc += _count_iptc(body, report)
        else:
            other += 1
        at = size_at + 4 + size + (size & 1)
    if iptc == 0 and other == 0:
        other = 1
    return iptc, other
