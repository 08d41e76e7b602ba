"""Strip many photos, optionally in a process pool, reporting each result.

Durability (``durable=True``, the default) without blocking on every file: each
photo is stripped into a temporary file next to its destination; a small thread pool
in the same process then ``fsync``s that file and only then renames it over the
destination, while the next photos are being stripped. Every destination folder is
``fsync``ed once, after all its renames, before :func:`strip_many` returns. See
``docs/photos.md``.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from charter.photos.errors import PhotoFormatError
from charter.photos.options import StripOptions
from charter.photos.report import StripReport
from charter.photos.strip import PendingFile, fsync_dir, strip_file, strip_to_temp

COMMIT_THREADS = 2
"""Threads per process that flush and rename finished files in the background."""

MAX_PENDING = 16
"""Files per process stripped but not yet flushed and renamed (bounds open files)."""

MAX_CHUNK = 64
"""Most photos handed to a pool worker at once (results arrive per chunk).

Chunks are large on purpose: at the end of a chunk the worker waits for that chunk's
flushes, so fewer, larger chunks keep the workers busy (measured: 2 chunks per worker
strip ~25 % faster than chunks of 8)."""

_Item = tuple[int, Path, Path]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One file's outcome: a report, or a one-line error message."""

    src: Path
    dst: Path
    report: StripReport | None = None
    error: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was stripped."""
        return self.report is not None


def _start_method() -> str:
    """``fork`` when it is safe (POSIX, no other thread alive), else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1 and sys.version_info < (3, 14):
        return "fork"
    return "spawn"


def _failure(src: Path, dst: Path, exc: BaseException) -> BatchResult:
    if isinstance(exc, PhotoFormatError):
        return BatchResult(src, dst, error=exc.message, code=exc.code.value)
    if isinstance(exc, IsADirectoryError):
        return BatchResult(src, dst, error=f"{src.name}: is a folder, not a photo", code="io")
    assert isinstance(exc, OSError)
    reason = exc.strerror or type(exc).__name__
    return BatchResult(src, dst, error=f"{src.name}: {reason}", code="io")


def strip_one(src: Path, dst: Path, options: StripOptions, durable: bool = True) -> BatchResult:
    """Strip one file, turning expected failures into a :class:`BatchResult`."""
    try:
        report = strip_file(src, None if src == dst else dst, options=options, durable=durable)
    except (PhotoFormatError, OSError) as exc:
        return _failure(src, dst, exc)
    return BatchResult(src, dst, report=report)


def _prepare(src: Path, dst: Path, options: StripOptions) -> PendingFile | BatchResult:
    try:
        return strip_to_temp(src, dst, options)
    except (PhotoFormatError, OSError) as exc:
        return _failure(src, dst, exc)


def _commit(pending: PendingFile, src: Path, dst: Path, durable: bool) -> BatchResult:
    try:
        pending.commit(durable)
    except OSError as exc:
        return _failure(src, dst, exc)
    return BatchResult(src, dst, report=pending.report)


def _strip_batch(
    items: Sequence[_Item],
    options: StripOptions,
    durable: bool,
    on_result: Callable[[int, BatchResult], None] | None = None,
) -> list[tuple[int, BatchResult]]:
    """Strip ``items`` in this process; flushes and renames overlap in threads.

    Returns ``(index, result)`` pairs once every file is flushed (``durable``) and
    renamed; folders are not flushed here.
    """
    done: list[tuple[int, BatchResult]] = []

    def emit(index: int, result: BatchResult) -> None:
        done.append((index, result))
        if on_result is not None:
            on_result(index, result)

    if not durable:
        for index, src, dst in items:
            prepared = _prepare(src, dst, options)
            if isinstance(prepared, PendingFile):
                prepared = _commit(prepared, src, dst, durable=False)
            emit(index, prepared)
        return done
    inflight: deque[tuple[int, Future[BatchResult]]] = deque()
    with ThreadPoolExecutor(COMMIT_THREADS, thread_name_prefix="charter-fsync") as pool:
        for index, src, dst in items:
            prepared = _prepare(src, dst, options)
            if isinstance(prepared, BatchResult):
                emit(index, prepared)
                continue
            try:
                inflight.append((index, pool.submit(_commit, prepared, src, dst, True)))
            except BaseException:
                prepared.discard()
                raise
            while inflight and (inflight[0][1].done() or len(inflight) > MAX_PENDING):
                first, future = inflight.popleft()
                emit(first, future.result())
        while inflight:
            first, future = inflight.popleft()
            emit(first, future.result())
    return done


def _strip_pool(
    items: list[_Item],
    options: StripOptions,
    jobs: int,
    durable: bool,
    collect: Callable[[int, BatchResult], None],
) -> None:
    context = multiprocessing.get_context(_start_method())
    workers = min(jobs, len(items))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(_strip_batch, chunk, options, durable) for chunk in _chunks(items, workers)
        ]
        for future in as_completed(futures):
            for index, result in future.result():
                collect(index, result)


def _flush_folders(results: dict[int, BatchResult]) -> None:
    """``fsync`` each destination folder once; a failure fails that folder's files."""
    folders: dict[Path, list[int]] = {}
    for index, result in results.items():
        if result.ok:
            folders.setdefault(result.dst.parent, []).append(index)
    for folder, indices in folders.items():
        try:
            fsync_dir(folder)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            for i in indices:
                error = f"{results[i].src.name}: could not flush the folder to disk: {reason}"
                results[i] = replace(results[i], report=None, error=error, code="io")


def _chunks(items: list[_Item], workers: int) -> list[list[_Item]]:
    size = max(1, min(MAX_CHUNK, -(-len(items) // (workers * 2))))
    return [items[i : i + size] for i in range(0, len(items), size)]


def strip_many(
    pairs: Sequence[tuple[Path, Path]],
    options: StripOptions,
    *,
    jobs: int = 1,
    durable: bool = True,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Strip each ``(src, dst)`` pair; ``jobs > 1`` uses a process pool.

    Results are returned in input order; ``on_result`` is called as each finishes (in
    a pool: as each chunk of up to :data:`MAX_CHUNK` files finishes). A file is
    reported once its data is on disk (``durable``) and it is renamed over its
    destination; the renames themselves are on disk when this function returns.
    """
    results: dict[int, BatchResult] = {}
    items = [(i, Path(src), Path(dst)) for i, (src, dst) in enumerate(pairs)]

    def collect(index: int, result: BatchResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    if jobs <= 1 or len(items) <= 1:
        _strip_batch(items, options, durable, collect)
    else:
        _strip_pool(items, options, jobs, durable, collect)
    if durable:
        _flush_folders(results)
    return [results[i] for i in range(len(items))]
