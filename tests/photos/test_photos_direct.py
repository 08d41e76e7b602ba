"""DirectSink: a new file written around the page cache in whole blocks, the last one
padded and cut, with the usual writes wherever direct I/O is refused."""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.photos import _direct
from charter.photos._direct import BLOCK, DirectSink

pytestmark = pytest.mark.skipif(not _direct._O_DIRECT, reason="no O_DIRECT on this system")

SOURCE = bytes(range(256)) * 300  # 76,800 bytes to copy ranges from

# a piece: ("write", length), ("copy", offset, length) or ("read", offset, length): read
# into a window the sink lends, then keep what was read
pieces = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, 3 * BLOCK + 7)),
        st.tuples(
            st.sampled_from(["copy", "read"]),
            st.integers(0, len(SOURCE)),
            st.integers(0, 3 * BLOCK + 7),
        ),
    ),
    max_size=12,
)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_direct, "DIRECT_CHUNK", 2 * BLOCK)  # many chunk boundaries
    yield


def _write(path: Path, plan: list[tuple[object, ...]], source: Path) -> tuple[bytes, DirectSink]:
    """Write ``plan`` through a DirectSink into the new file ``path``; the bytes expected."""
    expected = bytearray()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    src = os.open(source, os.O_RDONLY)
    try:
        sink = DirectSink(fd)
        for n, piece in enumerate(plan):
            if piece[0] == "write":
                data = bytes([n % 251]) * int(piece[1])  # type: ignore[call-overload]
                assert sink.write(data) == len(data)
                expected += data
            elif piece[0] == "copy":
                offset, length = int(piece[1]), int(piece[2])  # type: ignore[call-overload]
                done = sink.copy_range(src, offset, length)
                assert done == min(length, len(SOURCE) - offset)  # short at the source's end
                expected += SOURCE[offset : offset + done]
            else:
                offset, length = int(piece[1]), int(piece[2])  # type: ignore[call-overload]
                with sink.window(length) as window:
                    assert 0 < len(window) <= length or length == 0
                    done = os.preadv(src, [window], offset)
                sink.keep(done)
                expected += SOURCE[offset : offset + done]
        sink.flush()
        sink.close()
    finally:
        os.close(src)
        os.close(fd)
    return bytes(expected), sink


def _direct_accepted(path: Path) -> bool:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        return _direct._set_direct(fd, True)
    finally:
        os.close(fd)
        path.unlink()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=pieces)
def test_the_file_holds_exactly_what_was_written(
    tmp_path_factory: pytest.TempPathFactory, small_chunks: None, plan: list[tuple[object, ...]]
) -> None:
    folder = tmp_path_factory.mktemp("direct")
    source = folder / "source"
    source.write_bytes(SOURCE)
    expected, _ = _write(folder / "out", plan, source)
    assert (folder / "out").read_bytes() == expected  # no padding left past the end


def test_writes_go_around_the_page_cache_where_the_file_system_allows(
    tmp_path: Path, small_chunks: None
) -> None:
    if not _direct_accepted(tmp_path / "probe"):
        pytest.skip("this file system refuses O_DIRECT")
    source = tmp_path / "source"
    source.write_bytes(SOURCE)
    expected, sink = _write(tmp_path / "out", [("write", 5), ("copy", 3, 9000)], source)
    assert sink._direct  # every write was a direct one
    assert (tmp_path / "out").read_bytes() == expected


def _refusing_direct(
    monkeypatch: pytest.MonkeyPatch, refuse: Callable[[int, memoryview], int]
) -> None:
    """os.write as the module sees it: ``refuse`` answers writes to an O_DIRECT file."""
    real = os.write

    def write(fd: int, data: memoryview) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & _direct._O_DIRECT:
            return refuse(fd, data)
        return real(fd, data)

    monkeypatch.setattr(_direct.os, "write", write)


def test_a_direct_write_refused_by_the_file_system_is_written_the_usual_way(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def einval(fd: int, data: memoryview) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    _refusing_direct(monkeypatch, einval)
    source = tmp_path / "source"
    source.write_bytes(SOURCE)
    plan: list[tuple[object, ...]] = [("write", 3 * BLOCK + 5), ("copy", 10, 100)]
    expected, sink = _write(tmp_path / "out", plan, source)
    assert not sink._direct
    assert (tmp_path / "out").read_bytes() == expected


def test_a_short_direct_write_is_finished_the_usual_way(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write
    _refusing_direct(monkeypatch, lambda fd, data: real(fd, data[:BLOCK]))
    source = tmp_path / "source"
    source.write_bytes(SOURCE)
    expected, _ = _write(tmp_path / "out", [("write", 3 * BLOCK + 1)], source)
    assert (tmp_path / "out").read_bytes() == expected


def test_other_write_errors_are_raised(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def enospc(fd: int, data: memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    _refusing_direct(monkeypatch, enospc)
    source = tmp_path / "source"
    source.write_bytes(SOURCE)
    with pytest.raises(OSError, match="No space"):
        _write(tmp_path / "out", [("write", 3 * BLOCK)], source)
