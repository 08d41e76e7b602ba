"""The file fast path (pread, kernel copies, scan window) and the durable batch.

``strip_file`` reads regular files through their descriptor and lets the kernel copy
payloads; ``strip_bytes`` streams through Python buffers. Both must give the same bytes.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from photo_corpus import CANARY, build_corpus

from charter.photos import (
    PhotoFormatError,
    StripMode,
    StripOptions,
    _io,
    strip_bytes,
    strip_file,
)
from charter.photos import batch as batch_mod
from charter.photos import strip as strip_mod
from charter.photos.batch import strip_many

SAMPLES = build_corpus()
OPTIONS = [
    StripOptions(),
    StripOptions(mode=StripMode.LOCATION),
    StripOptions(drop_icc=True),
]


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def _check_all(tmp_path: Path) -> None:
    for index, sample in enumerate(SAMPLES):
        src = tmp_path / f"in{index}"
        src.write_bytes(sample.data)
        for k, options in enumerate(OPTIONS):
            expected, expected_report = strip_bytes(sample.data, options=options)
            dst = tmp_path / f"out{index}-{k}"
            report = strip_file(src, dst, options=options, durable=False)
            assert dst.read_bytes() == expected, sample.name
            assert report == expected_report, sample.name
    assert _leftovers(tmp_path) == []


def test_file_path_matches_stream_path(tmp_path: Path) -> None:
    _check_all(tmp_path)


@pytest.mark.parametrize("window", [2, 3, 7, 64, 4096])
def test_tiny_scan_windows_and_kernel_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(_io, "SCAN_WINDOW", window)
    monkeypatch.setattr(_io, "BULK_MIN", 1)
    monkeypatch.setattr(_io, "FD_CHUNK_SIZE", 16)
    _check_all(tmp_path)


@pytest.mark.parametrize("disabled", [("copy_file_range",), ("copy_file_range", "sendfile")])
def test_fallbacks_when_the_kernel_cannot_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, disabled: tuple[str, ...]
) -> None:
    def refuse(*_: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(_io, "BULK_MIN", 1)
    monkeypatch.setattr(_io, "FD_CHUNK_SIZE", 16)
    monkeypatch.setattr(_io, "_kernel_copy", dict(_io._kernel_copy))
    for name in disabled:
        monkeypatch.setattr(os, name, refuse, raising=False)
    _check_all(tmp_path)
    assert not any(_io._kernel_copy[name] for name in disabled)


def test_kernel_copy_errors_other_than_unsupported_propagate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io, "BULK_MIN", 1)
    monkeypatch.setattr(_io, "FD_CHUNK_SIZE", 16)
    monkeypatch.setattr(_io, "_kernel_copy", {"copy_file_range": True, "sendfile": True})
    monkeypatch.setattr(os, "copy_file_range", fail, raising=False)
    src, dst = tmp_path / "a.png", tmp_path / "b.png"
    src.write_bytes(next(s.data for s in SAMPLES if s.fmt == "png"))
    with pytest.raises(OSError, match="No space"):
        strip_file(src, dst)
    assert not dst.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_truncated_files_via_the_file_path(tmp_path: Path, sample) -> None:  # type: ignore[no-untyped-def]
    dst = tmp_path / "out"
    dst.write_bytes(b"previous")
    for cut in (len(sample.data) // 3, len(sample.data) - 3):
        src = tmp_path / "in"
        src.write_bytes(sample.data[:cut])
        try:
            data, _ = strip_bytes(sample.data[:cut])
        except PhotoFormatError as exc:
            with pytest.raises(PhotoFormatError) as info:
                strip_file(src, dst)
            assert info.value.code == exc.code
            assert dst.read_bytes() == b"previous"
        else:  # a cut inside a trailer or a dropped box still gives a valid image
            strip_file(src, dst)
            assert dst.read_bytes() == data
            dst.write_bytes(b"previous")
        assert _leftovers(tmp_path) == []


def _pairs(tmp_path: Path) -> list[tuple[Path, Path]]:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    pairs = []
    for index, sample in enumerate(SAMPLES):
        src = tmp_path / "in" / f"{index}-{sample.name}"
        src.write_bytes(sample.data)
        pairs.append((src, tmp_path / "out" / src.name))
    bad = tmp_path / "in" / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe1\x00")
    pairs.append((bad, tmp_path / "out" / bad.name))
    return pairs


@pytest.mark.parametrize("jobs", [1, 2])
def test_durable_batch_fsyncs_every_file_and_each_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    pairs = _pairs(tmp_path)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc") else "?")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    seen = []
    threads = set()

    def on_result(result: batch_mod.BatchResult) -> None:
        seen.append(result)
        threads.add(threading.get_ident())

    results = strip_many(pairs, StripOptions(), jobs=jobs, on_result=on_result)
    assert sorted(r.src for r in seen) == sorted(src for src, _ in pairs)
    assert threads == {threading.get_ident()}  # called on the caller's thread, per file
    assert [r.src for r in results] == [src for src, _ in pairs]
    assert [r.ok for r in results] == [True] * len(SAMPLES) + [False]
    assert results[-1].code == "truncated"
    for (src, dst), result in zip(pairs[:-1], results[:-1], strict=True):
        assert dst.read_bytes() == strip_bytes(src.read_bytes())[0]
        assert result.report is not None
        assert CANARY not in dst.read_bytes()
    assert not (tmp_path / "out" / "bad.jpg").exists()
    assert _leftovers(tmp_path / "out") == []
    if os.path.exists("/proc"):
        folder = str(tmp_path / "out")
        assert synced.count(folder) == 1
        assert synced[-1] == folder  # the folder last, after every rename
        assert len([s for s in synced if s.endswith(".part")]) == len(SAMPLES)


def test_batch_file_fsync_failure_fails_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = _pairs(tmp_path)[:3]
    real_fsync = os.fsync
    failed: list[int] = []

    def fsync(fd: int) -> None:  # the first file's flush fails
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".part") and not failed:
            failed.append(fd)
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(batch_mod, "COMMIT_THREADS", 1)
    results = strip_many(pairs, StripOptions())
    assert [r.ok for r in results] == [False, True, True]
    assert results[0].code == "io" and "Input/output error" in (results[0].error or "")
    assert not pairs[0][1].exists() and pairs[1][1].exists()
    assert _leftovers(tmp_path / "out") == []


def test_batch_folder_fsync_failure_fails_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = _pairs(tmp_path)[:2]

    def fsync_dir(_: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(batch_mod, "fsync_dir", fsync_dir)
    results = strip_many(pairs, StripOptions())
    assert not any(r.ok for r in results)
    assert all("could not flush the folder" in (r.error or "") for r in results)
    monkeypatch.setattr(batch_mod, "fsync_dir", strip_mod.fsync_dir)
    assert all(r.ok for r in strip_many(pairs, StripOptions(), durable=False))


def test_in_place_batch(tmp_path: Path) -> None:
    pairs = [(src, src) for src, _ in _pairs(tmp_path)[:-1]]
    expected = [strip_bytes(src.read_bytes())[0] for src, _ in pairs]
    results = strip_many(pairs, StripOptions(), jobs=2)
    assert all(r.ok for r in results)
    assert [src.read_bytes() for src, _ in pairs] == expected
    assert _leftovers(tmp_path / "in") == []


@pytest.mark.parametrize("jobs", [1, 3])
def test_an_unexpected_error_in_a_worker_is_raised_not_hung(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    pairs = _pairs(tmp_path)[:-1]
    real = batch_mod.strip_to_temp

    def strip_to_temp(src: Path, dst: Path, options: StripOptions) -> strip_mod.PendingFile:
        if src == pairs[1][0]:
            raise RuntimeError("boom")
        return real(src, dst, options)

    monkeypatch.setattr(batch_mod, "strip_to_temp", strip_to_temp)
    with pytest.raises(RuntimeError, match="boom"):
        strip_many(pairs, StripOptions(), jobs=jobs)
    assert _leftovers(tmp_path / "out") == []
