"""What was removed: metadata families and counts, never values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from charter.photos.formats import PhotoFormat


@dataclass(frozen=True, slots=True)
class StripReport:
    """The outcome of stripping one photo.

    ``removed`` maps a metadata family (``"gps"``, ``"exif"``, ``"xmp"``, ``"trailer"``,
    ...) to how many items of it were removed; ``kept`` names what was deliberately
    kept for rendering (``"orientation"``, ``"icc"``, ``"jfif"``, ``"adobe"``).
    """

    format: PhotoFormat
    media_type: str
    removed: Mapping[str, int]
    kept: tuple[str, ...]
    bytes_in: int
    bytes_out: int

    @property
    def removed_total(self) -> int:
        """Total number of removed items over all families."""
        return sum(self.removed.values())

    def summary(self) -> str:
        """A compact one-line summary, e.g. ``"exif=12, gps=7, thumbnail=1"``."""
        if not self.removed:
            return "none"
        return ", ".join(f"{family}={count}" for family, count in sorted(self.removed.items()))

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly view."""
        return {
            "format": self.format.value,
            "media_type": self.media_type,
            "removed": dict(sorted(self.removed.items())),
            "kept": list(self.kept),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
        }


@dataclass(slots=True)
class ReportBuilder:
    """Mutable collector used by the format handlers while they stream.

    When ``values`` is a list (inspection with values), handlers append
    ``(family, name, value)`` triples; otherwise values are never materialised.
    """

    removed: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)
    values: list[tuple[str, str, str]] | None = None

    def remove(self, family: str, count: int = 1) -> None:
        """Record ``count`` removed items of ``family``."""
        if count > 0:
            self.removed[family] += count

    def keep(self, what: str) -> None:
        """Record that ``what`` was kept on purpose."""
        if what not in self.kept:
            self.kept.append(what)

    @property
    def collecting(self) -> bool:
        """Whether values are wanted (inspection only)."""
        return self.values is not None

    def value(self, family: str, name: str, value: str) -> None:
        """Record one metadata value (inspection only)."""
        if self.values is not None:
            self.values.append((family, name, value))

    def build(
        self, fmt: PhotoFormat, media_type: str, bytes_in: int, bytes_out: int
    ) -> StripReport:
        """Freeze into a :class:`StripReport`."""
        return StripReport(
            format=fmt,
            media_type=media_type,
            removed=dict(self.removed),
            kept=tuple(self.kept),
            bytes_in=bytes_in,
            bytes_out=bytes_out,
        )
