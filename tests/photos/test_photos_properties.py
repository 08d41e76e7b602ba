"""Property tests: random metadata layouts and a bounded fuzz of the parsers."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from photo_checks import decode
from photo_corpus import (
    CANARY,
    base_image,
    build_corpus,
    build_exif,
    build_png,
    iptc_block,
    jpeg_bytes,
    png_chunk,
    riff,
    riff_chunks,
    segment,
    xmp_packet,
)

from charter.photos import PhotoFormatError, StripMode, StripOptions, strip_bytes

SAMPLES = build_corpus()
BASE_JPEG = jpeg_bytes(base_image(size=(24, 16)), quality=80)
BASE_PROGRESSIVE = jpeg_bytes(base_image(size=(24, 16), seed=4), progressive=True)
OPTIONS = st.builds(StripOptions, mode=st.sampled_from(list(StripMode)), drop_icc=st.booleans())
PROFILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_canary_payload = st.binary(max_size=40).map(lambda b: CANARY + b)
_jpeg_metadata = st.one_of(
    st.builds(
        lambda o: segment(0xE1, b"Exif\x00\x00" + build_exif(orientation=o)), st.integers(1, 8)
    ),
    st.just(segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp_packet())),
    st.just(segment(0xED, iptc_block())),
    st.builds(lambda p: segment(0xFE, p), _canary_payload),
    st.builds(segment, st.integers(0xE0, 0xEF), _canary_payload),
)


_LOCATION_MARKERS = (b"CANARY-GPS", b"CANARY-XMP-CITY", b"CANARY-XMP-LOCATION", b"GPSLatitude")


def _assert_clean_for(options: StripOptions, out: bytes) -> None:
    if options.mode is StripMode.ALL:
        _assert_no_marker(out)
    elif options.mode is StripMode.KEEP_LOCATION:  # the GPS block alone may stay
        _assert_no_marker(out.replace(b"CANARY-GPS-METHOD", b""))
    else:
        assert not any(marker in out for marker in _LOCATION_MARKERS)


def _assert_no_marker(out: bytes) -> None:
    assert CANARY not in out
    assert b"http://ns.adobe.com/xap" not in out
    assert b"Photoshop 3.0" not in out


@PROFILE
@given(
    base=st.sampled_from([BASE_JPEG, BASE_PROGRESSIVE]),
    segments=st.lists(_jpeg_metadata, max_size=8),
    position=st.integers(0, 3),
    trailer=st.binary(max_size=64),
)
def test_jpeg_random_segment_layouts(
    base: bytes, segments: list[bytes], position: int, trailer: bytes
) -> None:
    # insert the metadata after SOI or after one of the first header segments
    at = 2
    for _ in range(position):
        if base[at : at + 2] in (b"\xff\xda",):
            break
        at += 2 + int.from_bytes(base[at + 2 : at + 4], "big")
    data = base[:at] + b"".join(segments) + base[at:] + (CANARY + trailer if trailer else b"")
    out, report = strip_bytes(data)
    _assert_no_marker(out)
    assert decode(out).tobytes() == decode(data).tobytes()
    assert report.removed_total >= len(segments)


_png_metadata = st.one_of(
    st.builds(lambda p: png_chunk(b"tEXt", b"k\x00" + p), _canary_payload),
    st.builds(lambda p: png_chunk(b"iTXt", b"k\x00\x00\x00\x00\x00" + p), _canary_payload),
    st.builds(lambda o: png_chunk(b"eXIf", build_exif(orientation=o)), st.integers(1, 8)),
    st.just(png_chunk(b"tIME", b"\x07\xdb\x0b\x0b\x0b\x0b\x0b")),
    st.builds(
        lambda n, p: png_chunk(b"x" + n.encode(), p),
        st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=3),
        _canary_payload,
    ),
)


@PROFILE
@given(chunks=st.lists(_png_metadata, max_size=8), options=OPTIONS)
def test_png_random_chunk_layouts(chunks: list[bytes], options: StripOptions) -> None:
    data = build_png(base_image(size=(20, 12)), chunks)
    out, _ = strip_bytes(data, options=options)
    _assert_clean_for(options, out)
    assert decode(out).tobytes() == decode(data).tobytes()


_WEBP_BASE = riff_chunks(next(s for s in SAMPLES if s.name == "orient3.webp").data)
_webp_metadata = st.one_of(
    st.builds(lambda o: (b"EXIF", build_exif(orientation=o)), st.integers(1, 8)),
    st.just((b"XMP ", xmp_packet())),
    st.builds(lambda p: (b"ZZ" + p[:2].hex()[:2].encode(), p), _canary_payload),
)


@PROFILE
@given(extra=st.lists(_webp_metadata, max_size=6), options=OPTIONS)
def test_webp_random_chunk_layouts(extra: list[tuple[bytes, bytes]], options: StripOptions) -> None:
    chunks = [c for c in _WEBP_BASE if c[0] not in (b"EXIF", b"XMP ")]
    data = riff(chunks[:1] + extra + chunks[1:])
    out, _ = strip_bytes(data, options=options)
    _assert_clean_for(options, out)
    assert decode(out).tobytes() == decode(data).tobytes()


# -- bounded fuzz ---------------------------------------------------------------------
def _strip_or_clear_error(data: bytes, options: StripOptions) -> None:
    try:
        strip_bytes(data, options=options)
    except PhotoFormatError as exc:
        assert exc.code and exc.message


@pytest.mark.timeout(60)
@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=512),
    prefix=st.sampled_from(
        [
            b"",
            b"\xff\xd8\xff",
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\x40\x00\x00\x00WEBP",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        ]
    ),
    options=OPTIONS,
)
def test_fuzz_random_bytes(data: bytes, prefix: bytes, options: StripOptions) -> None:
    _strip_or_clear_error(prefix + data, options)


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(
    sample=st.sampled_from([s for s in SAMPLES if s.name.startswith("orient6")] + SAMPLES[-1:]),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    options=OPTIONS,
)
def test_fuzz_mutated_files(
    sample: object, edits: list[tuple[float, int]], cut: float | None, options: StripOptions
) -> None:
    data = bytearray(sample.data)  # type: ignore[attr-defined]
    for where, value in edits:
        data[int(where * (len(data) - 1))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    _strip_or_clear_error(bytes(data), options)


def test_fuzz_sanity_output_decodes() -> None:
    """A mutated-but-valid path still yields a decodable image."""
    out, _ = strip_bytes(SAMPLES[0].data)
    assert decode(out).size == decode(io.BytesIO(SAMPLES[0].data).getvalue()).size
