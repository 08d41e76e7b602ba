"""Stripping the corpus: no metadata left, identical pixels, orientation kept."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from photo_checks import decode, exiftool_leaks, needs_exiftool
from photo_corpus import (
    CANARY,
    SRGB_ICC,
    Sample,
    base_image,
    build_corpus,
    build_exif,
    inject_jpeg,
    jpeg_bytes,
    png_chunk,
    riff,
    riff_chunks,
    segment,
    xmp_packet,
)
from PIL import ImageOps

from charter.photos import (
    ErrorCode,
    PhotoFormat,
    PhotoFormatError,
    StripMode,
    StripOptions,
    inspect_file,
    strip_bytes,
    strip_file,
)

SAMPLES = build_corpus()
LOCATION = StripOptions(mode=StripMode.LOCATION)
_PRIVATE_JPEG_INFO = {"xmp", "photoshop", "comment", "mp", "mpinfo", "extended_xmp"}


def _check_clean(sample: Sample, out: bytes) -> None:
    assert CANARY not in out
    assert b"http://ns.adobe.com/xap" not in out
    assert b"Photoshop 3.0" not in out
    im = decode(out)
    exif = im.getexif()
    assert set(exif) <= {0x0112}
    assert not exif.get_ifd(0x8825)
    assert not _PRIVATE_JPEG_INFO & set(im.info)
    assert not getattr(im, "text", {})


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_strip_removes_metadata_and_keeps_pixels(sample: Sample) -> None:
    out, report = strip_bytes(sample.data, name=sample.name)
    _check_clean(sample, out)
    before, after = decode(sample.data), decode(out)
    assert (after.mode, after.size) == (before.mode, before.size)
    assert after.tobytes() == before.tobytes()
    assert report.format.value == sample.fmt
    assert report.removed.get("gps", 0) >= 1
    assert report.bytes_out == len(out) < len(sample.data) or sample.fmt == "heif"
    expected = sample.orientation if sample.orientation != 1 else None
    assert after.getexif().get(0x0112) == expected
    # the summary carries families and counts, never values
    assert "CANARY" not in report.summary() and "48" not in report.summary()


@needs_exiftool
def test_corpus_is_clean_for_exiftool(tmp_path: Path) -> None:
    paths = []
    for sample in SAMPLES:
        for label, options in (("all", StripOptions()), ("icc", StripOptions(drop_icc=True))):
            out, _ = strip_bytes(sample.data, options=options)
            path = tmp_path / f"{label}-{sample.name}"
            path.write_bytes(out)
            paths.append(path)
    leaks = exiftool_leaks(paths)
    assert len(leaks) == len(paths)
    assert not {name: bad for name, bad in leaks.items() if bad}


@needs_exiftool
def test_exiftool_sees_the_input_metadata(tmp_path: Path) -> None:
    """The peer does detect the corpus metadata, so a clean verdict means something."""
    paths = []
    for sample in SAMPLES[:4] + SAMPLES[-2:]:
        path = tmp_path / sample.name
        path.write_bytes(sample.data)
        paths.append(path)
    assert all(exiftool_leaks(paths).values())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_renders_the_same(orientation: int) -> None:
    data = inject_jpeg(
        jpeg_bytes(base_image(seed=orientation)),
        [segment(0xE1, b"Exif\x00\x00" + build_exif(orientation=orientation))],
    )
    out, report = strip_bytes(data)
    shown_before = ImageOps.exif_transpose(decode(data))
    shown_after = ImageOps.exif_transpose(decode(out))
    assert shown_after.size == shown_before.size
    assert shown_after.tobytes() == shown_before.tobytes()
    assert ("orientation" in report.kept) == (orientation != 1)


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES if "orient6" in s.name or s.fmt == "heif"], ids=lambda s: s.name
)
def test_location_mode_keeps_exif_without_location(sample: Sample) -> None:
    out, report = strip_bytes(sample.data, options=LOCATION)
    im = decode(out)
    exif = im.getexif()
    assert not exif.get_ifd(0x8825)
    if sample.fmt != "heif":
        assert exif.get(0x010F) == "CANARY-Make"
        assert exif.get(0x0112) == sample.orientation
    assert b"CANARY-GPS-METHOD" not in out
    assert b"CANARY-XMP-CITY" not in out and b"CANARY-XMP-LOCATION" not in out
    assert b"GPSLatitude" not in out
    assert b"CANARY-XMP-TOOL" in out or sample.fmt == "webp" or sample.fmt == "png"
    assert report.removed.get("gps") == 6
    assert decode(sample.data).tobytes() == im.tobytes()


def test_location_mode_keeps_png_and_webp_xmp_minus_location() -> None:
    for sample in (s for s in SAMPLES if s.name in ("orient6.png", "orient6.webp")):
        out, report = strip_bytes(sample.data, options=LOCATION)
        assert b"CANARY-XMP-TOOL" in out
        assert b"CANARY-XMP-CITY" not in out
        assert report.removed.get("xmp_location", 0) >= 3


def test_drop_icc() -> None:
    for sample in (s for s in SAMPLES if s.name.startswith("orient2")):
        kept, report_kept = strip_bytes(sample.data)
        dropped, report = strip_bytes(sample.data, options=StripOptions(drop_icc=True))
        assert "icc" in report_kept.kept and report.removed.get("icc") == 1
        assert decode(kept).info.get("icc_profile") == SRGB_ICC
        assert not decode(dropped).info.get("icc_profile")
        assert decode(dropped).tobytes() == decode(sample.data).tobytes()


def test_cmyk_keeps_adobe_segment() -> None:
    sample = next(s for s in SAMPLES if s.name == "cmyk.jpg")
    out, report = strip_bytes(sample.data)
    assert "adobe" in report.kept
    assert decode(out).mode == "CMYK" and "adobe" in decode(out).info


def test_jfif_thumbnail_is_blanked() -> None:
    base = jpeg_bytes(base_image())
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x02\x01" + b"\xaa" * 6
    data = base[:2] + segment(0xE0, jfif) + base[2 + 2 + 16 :]
    out, report = strip_bytes(data)
    assert b"\xaa" * 6 not in out and report.removed["thumbnail"] == 1
    assert decode(out).tobytes() == decode(data).tobytes()


def test_png_trailer_and_text_only() -> None:
    buf = io.BytesIO()
    base_image().save(buf, "PNG")
    data = buf.getvalue()
    data = data[:33] + png_chunk(b"tEXt", b"k\x00CANARY") + data[33:] + b"CANARY-TAIL"
    out, report = strip_bytes(data)
    assert CANARY not in out and report.removed == {"text": 1, "trailer": 1}


def test_webp_without_vp8x_gets_one_for_orientation() -> None:
    buf = io.BytesIO()
    base_image().save(buf, "WEBP", lossless=True)
    chunks = [c for c in riff_chunks(buf.getvalue()) if c[0] != b"VP8X"]
    data = riff([*chunks, (b"EXIF", build_exif(orientation=6))])
    out, _report = strip_bytes(data)
    im = decode(out)
    assert im.getexif().get(0x0112) == 6 and b"VP8X" in out
    assert im.tobytes() == decode(data).tobytes()


def test_xmp_packet_in_location_mode_drops_unfilterable_packet() -> None:
    utf16 = xmp_packet().decode().encode("utf-16-le")
    data = inject_jpeg(
        jpeg_bytes(base_image()),
        [segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + utf16[:60000])],
    )
    out, report = strip_bytes(data, options=LOCATION)
    assert b"http://ns.adobe.com/xap" not in out and report.removed["xmp"] == 1


# -- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.EMPTY),
        (b"hello, this is not a photo", ErrorCode.UNSUPPORTED),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ErrorCode.TRUNCATED),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", ErrorCode.TRUNCATED),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x04tEXtabcd\x00\x00\x00\x00", ErrorCode.CORRUPT),
        (b"RIFF\xff\x00\x00\x00WEBPVP8 ", ErrorCode.TRUNCATED),
        (b"\xff\xd8\xff\xd9", ErrorCode.CORRUPT),
    ],
)
def test_bad_input_raises_clear_error(data: bytes, code: ErrorCode) -> None:
    with pytest.raises(PhotoFormatError) as info:
        strip_bytes(data, name="holiday.jpg")
    assert info.value.code is code
    assert info.value.message.startswith("holiday.jpg: ")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "sample", [SAMPLES[0], SAMPLES[1], SAMPLES[2], SAMPLES[-1]], ids=lambda s: s.name
)
def test_truncated_files_fail_cleanly(sample: Sample) -> None:
    for cut in (len(sample.data) // 3, len(sample.data) // 2):
        data = sample.data[:cut]
        try:
            out, _ = strip_bytes(data)
        except PhotoFormatError as exc:
            assert exc.code in (ErrorCode.TRUNCATED, ErrorCode.CORRUPT)
        else:  # a cut inside trailing data may still leave a complete image
            assert CANARY not in out


def test_strip_file_is_atomic_and_keeps_mode(tmp_path: Path) -> None:
    src = tmp_path / "a.jpg"
    src.write_bytes(SAMPLES[0].data)
    src.chmod(0o640)
    report = strip_file(src, tmp_path / "b.jpg")
    assert report.format is PhotoFormat.JPEG
    assert stat.S_IMODE((tmp_path / "b.jpg").stat().st_mode) == 0o640
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(SAMPLES[0].data[:500])
    with pytest.raises(PhotoFormatError):
        strip_file(bad, tmp_path / "out.jpg")
    with pytest.raises(PhotoFormatError):
        strip_file(bad)  # in place
    assert bad.read_bytes() == SAMPLES[0].data[:500]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "b.jpg", "bad.jpg"]


def test_in_place_and_wrong_extension(tmp_path: Path) -> None:
    png = next(s for s in SAMPLES if s.fmt == "png")
    path = tmp_path / "looks-like.jpg"
    path.write_bytes(png.data)
    report = strip_file(path)
    assert report.format is PhotoFormat.PNG and report.media_type == "image/png"
    assert CANARY not in path.read_bytes()


def test_inspect_lists_families_and_values_only_on_request(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(SAMPLES[0].data)
    inventory = inspect_file(path)
    assert {"gps", "xmp", "iptc", "comment", "thumbnail", "trailer"} <= set(inventory.families)
    assert inventory.values == []
    detailed = inspect_file(path, show_values=True)
    assert any("CANARY-Make" in value for _, _, value in detailed.values)
    assert path.read_bytes() == SAMPLES[0].data


_RSS_SCRIPT = """
import resource, sys
from charter.photos import strip_file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
strip_file(sys.argv[1], sys.argv[2], durable=False)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(after - before)
"""


def _big_jpeg(path: Path, size: int) -> None:
    base = jpeg_bytes(base_image(size=(16, 16)))
    sos = base.index(b"\xff\xda")
    header_end = sos + 2 + int.from_bytes(base[sos + 2 : sos + 4], "big")
    block = bytes(range(0, 255)) * 4096  # entropy-like bytes without 0xFF
    with path.open("wb") as f:
        f.write(inject_jpeg(base[:header_end], [segment(0xE1, b"Exif\x00\x00" + build_exif())]))
        for _ in range(size // len(block)):
            f.write(block)
        f.write(b"\xff\xd9" + b"CANARY-TRAILER" * 1000)


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_memory_does_not_grow_with_file_size(tmp_path: Path, kind: str) -> None:
    src, dst = tmp_path / f"big.{kind}", tmp_path / f"out.{kind}"
    size = 200 << 20
    if kind == "jpeg":
        _big_jpeg(src, size)
    else:
        head = b"\x89PNG\r\n\x1a\n" + png_chunk(
            b"IHDR", b"\x00\x00\x10\x00\x00\x00\x10\x00\x08\x02\x00\x00\x00"
        )
        with src.open("wb") as f:
            f.write(head + png_chunk(b"tEXt", b"k\x00CANARY"))
            f.write((size).to_bytes(4, "big") + b"IDAT")
            block = b"\x00" * (1 << 20)
            for _ in range(size >> 20):
                f.write(block)
            f.write(b"\x00\x00\x00\x00" + png_chunk(b"IEND", b""))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(src), str(dst)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    growth_kib = int(result.stdout.strip())
    assert growth_kib < 40 * 1024, f"RSS grew by {growth_kib} KiB"
    assert dst.stat().st_size > size * 0.99
    with dst.open("rb") as f:
        f.seek(-20000, 2)
        assert CANARY not in f.read()
