"""The numpy scan-end search agrees with the reference regular expression.

``find_marker`` (descriptor fast path) must report exactly the offset where
``SCAN_END`` (streaming path) matches first, for any layout of stuffed bytes, restart
markers, fill bytes and real markers, wherever they fall relative to the compared
pieces and the read windows.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from photo_corpus import CANARY, base_image, jpeg_bytes, segment

from charter.photos import _direct, _io, _scan, strip_bytes, strip_file

_REAL_CODES = [c for c in range(1, 0xFF) if not 0xD0 <= c <= 0xD7]
_token = st.one_of(
    st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\xff", b"\x00")),
    st.just(b"\xff\x00"),  # byte stuffing
    st.integers(0xD0, 0xD7).map(lambda c: bytes((0xFF, c))),  # restart markers
    st.integers(1, 6).map(lambda k: b"\xff" * k),  # fill bytes, maybe followed by a code
    st.sampled_from(_REAL_CODES).map(lambda c: bytes((0xFF, c))),  # a real marker
    st.binary(max_size=8),  # anything
)
_layouts = st.lists(_token, max_size=60).map(b"".join)


def _reference(data: bytes) -> int:
    m = _scan.SCAN_END.search(data)
    return -1 if m is None else m.start()


@settings(max_examples=400, deadline=None)
@given(data=_layouts, piece=st.sampled_from([1, 2, 3, 5, 16, 1 << 17]))
def test_find_marker_matches_the_regex(data: bytes, piece: int) -> None:
    old = _scan.PIECE
    _scan.PIECE = piece
    try:
        assert _scan.find_marker(data, len(data)) == _reference(data)
        buf = bytearray(data) + b"\xd9\x01\x02"  # bytes past n are never looked at
        assert _scan.find_marker(buf, len(data)) == _reference(data)
    finally:
        _scan.PIECE = old


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", -1),
        (b"\xff", -1),  # a final 0xFF waits for its code byte
        (b"\xff\x00\xff\xd0\xff\xff", -1),
        (b"\xff\xff\xd9", 1),  # fill bytes belong before the marker
        (b"\x00" * 100 + b"\xff\xe1", 100),
        (b"\xff\x00" * 70000 + b"\xff\xfe", 140000),  # past the first piece
    ],
)
def test_find_marker_cases(data: bytes, expected: int) -> None:
    assert _scan.find_marker(data, len(data)) == expected == _reference(data)


_BASE = jpeg_bytes(base_image(size=(24, 16)), quality=80)
_SOS = _BASE.index(b"\xff\xda")
_SCAN_AT = _SOS + 2 + int.from_bytes(_BASE[_SOS + 2 : _SOS + 4], "big")
_EOI = len(_BASE) - 2


@settings(max_examples=60, deadline=None)
@given(
    entropy=st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=300).map(lambda b: b.replace(b"\xff", b"\xff\x00")),
            st.integers(0xD0, 0xD7).map(lambda c: bytes((0xFF, c))),
            st.integers(1, 3).map(lambda k: b"\xff" * k + b"\x00"),
        ),
        max_size=20,
    ).map(b"".join),
    between=st.sampled_from([0xFE, 0xE1, 0xED, 0xE5]),
    window=st.sampled_from([2, 3, 64, 4096]),
)
def test_metadata_between_scans_is_removed_on_the_fast_path(
    tmp_path_factory: pytest.TempPathFactory, entropy: bytes, between: int, window: int
) -> None:
    """Entropy data of any layout, then a metadata segment before the end of image:
    the segment is found and dropped, and the file path gives the stream path's bytes.
    """
    scan = _BASE[_SCAN_AT:_EOI] + entropy
    data = _BASE[:_SCAN_AT] + scan + segment(between, CANARY + b"-BETWEEN") + b"\xff\xd9"
    expected, report = strip_bytes(data)
    assert CANARY not in expected
    assert expected.endswith(scan + b"\xff\xd9")
    folder = tmp_path_factory.mktemp("scan")
    src, dst = folder / "in.jpg", folder / "out.jpg"
    src.write_bytes(data)
    old = _io.SCAN_WINDOW
    _io.SCAN_WINDOW = window
    try:
        assert strip_file(src, dst, durable=False) == report
    finally:
        _io.SCAN_WINDOW = old
    assert Path(dst).read_bytes() == expected


def _direct_supported(folder: Path) -> bool:
    probe = folder / "probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        return _io.FdSink(fd).start_direct() is not None
    finally:
        os.close(fd)
        probe.unlink()


def _filler(k: int) -> bytes:
    """``k`` varied bytes without 0xFF (entropy-coded data between the 0xFF pairs)."""
    return bytes((i * 37 + k) % 254 + 1 for i in range(k))


_layout_jpegs = st.builds(
    lambda parts, between: (
        _BASE[:_SCAN_AT]
        + _BASE[_SCAN_AT:_EOI]
        + b"".join(parts)
        + b"".join(segment(m, CANARY + b"-BETWEEN") for m in between)
        + b"\xff\xd9"
    ),
    st.lists(
        st.one_of(
            st.integers(0, 3 * 8192 + 100).map(_filler),
            st.just(b"\xff\x00"),
            st.integers(0xD0, 0xD7).map(lambda c: bytes((0xFF, c))),
        ),
        max_size=8,
    ),
    st.lists(st.sampled_from([0xFE, 0xE1, 0xED]), max_size=2),
)


def _direct_boundary_cases() -> list[tuple[int, int]]:
    return [(w, d) for w in (4096, 8192) for d in range(-3, 4)]


@pytest.mark.parametrize(("window", "delta"), _direct_boundary_cases())
def test_direct_writes_around_the_staging_boundary(tmp_path: Path, window: int, delta: int) -> None:
    """A marker (or fill byte) split across two reads of the staging room is found."""
    if not _direct_supported(tmp_path):
        pytest.skip("this file system refuses O_DIRECT")
    header = len(strip_bytes(_BASE)[0]) - (_EOI - _SCAN_AT) - 2  # output before the scan
    room = window + 4096 - header
    scan = _BASE[_SCAN_AT:_EOI] + _filler(room - 1 - (_EOI - _SCAN_AT) + delta)
    data = _BASE[:_SCAN_AT] + scan + segment(0xFE, CANARY) + b"\xff\xd9"
    expected = strip_bytes(data)[0]
    assert CANARY not in expected and expected.endswith(scan + b"\xff\xd9")
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(data)
    old = _direct.DIRECT_WINDOW
    _direct.DIRECT_WINDOW = window
    try:
        strip_file(src, dst)
    finally:
        _direct.DIRECT_WINDOW = old
    assert dst.read_bytes() == expected


@settings(max_examples=60, deadline=None)
@given(data=_layout_jpegs, window=st.sampled_from([4096, 8192, 3 * 4096, 1 << 20]))
def test_direct_writes_give_the_stream_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, window: int
) -> None:
    """O_DIRECT output (aligned blocks from the staging buffer, the last block written
    normally) is byte for byte the streaming path's output, whatever the window."""
    folder = tmp_path_factory.mktemp("direct")
    if not _direct_supported(folder):
        pytest.skip("this file system refuses O_DIRECT")
    expected, report = strip_bytes(data)
    assert CANARY not in expected
    src, dst = folder / "in.jpg", folder / "out.jpg"
    src.write_bytes(data)
    old = _direct.DIRECT_WINDOW
    _direct.DIRECT_WINDOW = window
    try:
        assert strip_file(src, dst) == report
    finally:
        _direct.DIRECT_WINDOW = old
    assert dst.read_bytes() == expected


def test_direct_mode_is_used_for_jpeg_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _direct_supported(tmp_path):
        pytest.skip("this file system refuses O_DIRECT")
    entered: list[bool] = []
    real = _io.FdSink.start_direct

    def spy(self: _io.FdSink) -> _direct.DirectWriter | None:
        writer = real(self)
        entered.append(writer is not None)
        return writer

    monkeypatch.setattr(_io.FdSink, "start_direct", spy)
    big = _BASE[:_SCAN_AT] + _BASE[_SCAN_AT:_EOI] + bytes(range(255)) * 9000 + b"\xff\xd9"
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(big)
    strip_file(src, dst)
    assert entered and all(entered)
    assert dst.read_bytes() == strip_bytes(big)[0]


@pytest.mark.parametrize("refusal", ["fcntl", "write"])
def test_file_systems_refusing_o_direct_fall_back_to_normal_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    """EINVAL when O_DIRECT is set (or on the first direct write): the same bytes are
    written normally and later files do not try again."""
    monkeypatch.setattr(_direct, "_usable", {"ok": True})
    refused: list[int] = []
    if refusal == "fcntl":
        real_fcntl = fcntl.fcntl

        def no_direct_fcntl(fd: int, cmd: int, arg: int = 0) -> int:
            if cmd == fcntl.F_SETFL and arg & os.O_DIRECT:
                refused.append(fd)
                raise OSError(errno.EINVAL, "Invalid argument")
            return real_fcntl(fd, cmd, arg)

        monkeypatch.setattr(fcntl, "fcntl", no_direct_fcntl)
    else:
        real_write = os.write

        def no_direct_write(fd: int, data: bytes) -> int:
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
                refused.append(fd)
                raise OSError(errno.EINVAL, "Invalid argument")
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", no_direct_write)
    big = _BASE[:_SCAN_AT] + _BASE[_SCAN_AT:_EOI] + bytes(range(255)) * 9000 + b"\xff\xd9"
    src = tmp_path / "in.jpg"
    src.write_bytes(big)
    for name in ("a.jpg", "b.jpg"):
        strip_file(src, tmp_path / name)
        assert (tmp_path / name).read_bytes() == strip_bytes(big)[0]
    assert len(refused) == 1
    assert _direct._usable == {"ok": False}
