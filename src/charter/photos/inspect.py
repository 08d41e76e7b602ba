"""List the metadata families a photo carries (values only on request)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from charter.photos._io import NullSink
from charter.photos.options import StripOptions
from charter.photos.report import ReportBuilder
from charter.photos.strip import _run


@dataclass(frozen=True, slots=True)
class Inventory:
    """What a photo carries: families and counts, what rendering needs, values if asked."""

    format: str
    media_type: str
    families: dict[str, int]
    kept: tuple[str, ...]
    values: list[tuple[str, str, str]] = field(default_factory=list)


def inspect_file(path: str | os.PathLike[str], *, show_values: bool = False) -> Inventory:
    """Inspect the photo at ``path`` without changing it.

    ``families`` is what :func:`~charter.photos.strip_file` would remove by
    default. Values are only read when ``show_values`` is true.
    """
    p = Path(path)
    builder = ReportBuilder(values=[] if show_values else None)
    with open(p, "rb") as f:
        report = _run(f, NullSink(), StripOptions(), p.name, builder)
    return Inventory(
        format=report.format.value,
        media_type=report.media_type,
        families=dict(sorted(report.removed.items())),
        kept=report.kept,
        values=list(builder.values or []),
    )
