"""Strip many photos, optionally in a process pool, reporting each result."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from charter.device.photos.errors import PhotoFormatError
from charter.device.photos.options import StripOptions
from charter.device.photos.report import StripReport
from charter.device.photos.strip import strip_file


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


def strip_one(src: Path, dst: Path, options: StripOptions, durable: bool = True) -> BatchResult:
    """Strip one file, turning expected failures into a :class:`BatchResult`."""
    try:
        report = strip_file(src, None if src == dst else dst, options=options, durable=durable)
    except PhotoFormatError as exc:
        return BatchResult(src, dst, error=exc.message, code=exc.code.value)
    except IsADirectoryError:
        return BatchResult(src, dst, error=f"{src.name}: is a folder, not a photo", code="io")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return BatchResult(src, dst, error=f"{src.name}: {reason}", code="io")
    return BatchResult(src, dst, report=report)


def strip_many(
    pairs: Sequence[tuple[Path, Path]],
    options: StripOptions,
    *,
    jobs: int = 1,
    durable: bool = True,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Strip each ``(src, dst)`` pair; ``jobs > 1`` uses a process pool.

    Results are returned in input order; ``on_result`` is called as each finishes.
    """
    results: dict[int, BatchResult] = {}
    if jobs <= 1 or len(pairs) <= 1:
        for index, (src, dst) in enumerate(pairs):
            results[index] = strip_one(src, dst, options, durable)
            if on_result is not None:
                on_result(results[index])
    else:
        context = multiprocessing.get_context(_start_method())
        workers = min(jobs, len(pairs))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures: dict[Future[BatchResult], int] = {
                pool.submit(strip_one, src, dst, options, durable): i
                for i, (src, dst) in enumerate(pairs)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_result is not None:
                    on_result(results[futures[future]])
    return [results[i] for i in range(len(pairs))]
