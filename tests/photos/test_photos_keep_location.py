"""
The stripper's keep-location-only mode (``StripMode.KEEP_LOCATION``): the EXIF GPS IFD is
kept with every value as it was, everything else goes as with ``ALL`` (camera, dates,
owner, maker note, thumbnail, XMP, IPTC, comments), the pixels are unchanged. exiftool is the
independent judge of what a stripped file still says.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from photo_checks import EXIFTOOL, decode, needs_exiftool
from photo_corpus import (
    SRGB_ICC,
    Sample,
    base_image,
    build_corpus,
    build_exif,
    inject_jpeg,
    jpeg_bytes,
    segment,
)

from charter.photos import StripMode, StripOptions, strip_bytes

KEEP = StripOptions(mode=StripMode.KEEP_LOCATION)
ALLOWED_GROUPS = {"SourceFile", "System", "File", "ExifTool", "Composite", "JFIF", "Adobe",
                  "ICC-header", "ICC_Profile", "ICC-chrm", "ICC-meas", "ICC-view", "PNG", "RIFF",
                  "QuickTime", "Meta"}  # fmt: skip
NAMES = {"orient6.jpg", "orient3.png", "orient6.webp", "photo6.heic", "bigendian.jpg", "cmyk.jpg"}
SAMPLES = [s for s in build_corpus() if s.name in NAMES]


def _exiftool(path: Path) -> dict[str, Any]:
    assert EXIFTOOL is not None
    out = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-a", "-u", "-n", str(path)],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    record: dict[str, Any] = json.loads(out)[0]
    return record


def _gps(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k.startswith("GPS:")}


@needs_exiftool
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_only_the_gps_ifd_survives(sample: Sample, tmp_path: Path) -> None:
    out, report = strip_bytes(sample.data, options=KEEP)
    before, after = tmp_path / f"in-{sample.name}", tmp_path / f"out-{sample.name}"
    before.write_bytes(sample.data)
    after.write_bytes(out)
    seen_before, seen_after = _exiftool(before), _exiftool(after)
    assert _gps(seen_before) and _gps(seen_after) == _gps(seen_before)  # every GPS value kept
    assert seen_after["GPS:GPSLatitude"] == pytest.approx(48 + 51 / 60 + 29.5 / 3600)
    others = {
        k
        for k in seen_after
        if k.split(":", 1)[0] not in ALLOWED_GROUPS
        and not k.startswith("GPS:")
        and k not in ("IFD0:Orientation", "ExifTool:ExifToolVersion")
    }
    assert others == set(), others
    for marker in (b"CANARY-Make", b"CANARY-SERIAL", b"CANARY-Artist", b"CANARY-MAKERNOTE",
                   b"CANARY-USERCOMMENT", b"CANARY-XMP", b"CANARY-PNG-TAIL"):  # fmt: skip
        assert marker not in out, marker
    assert "gps" in report.kept and report.removed.get("gps") is None
    assert report.removed.get("device", 0) >= 1 and "xmp" not in report.kept
    assert decode(out).tobytes() == decode(sample.data).tobytes()  # pixels unchanged
    if sample.fmt in ("jpeg", "png", "webp") and sample.orientation != 1:
        assert seen_after.get("IFD0:Orientation") == sample.orientation  # rendering needs it


@needs_exiftool
def test_a_photo_without_location_keeps_nothing(tmp_path: Path) -> None:
    exif = segment(0xE1, b"Exif\x00\x00" + build_exif(orientation=1, gps=False))
    data = inject_jpeg(jpeg_bytes(base_image(seed=3), icc_profile=SRGB_ICC), [exif])
    out, report = strip_bytes(data, options=KEEP)
    path = tmp_path / "out.jpg"
    path.write_bytes(out)
    seen = _exiftool(path)
    assert not _gps(seen) and not any(k.startswith(("IFD0:", "ExifIFD:")) for k in seen)
    assert out == strip_bytes(data)[0]  # the same as removing everything
    assert "gps" not in report.kept
