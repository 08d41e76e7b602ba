"""What the caller asks the stripper to do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StripMode(StrEnum):
    """How much metadata to remove."""

    ALL = "all"
    """Remove every metadata block; keep only what rendering needs."""

    LOCATION = "location"
    """Keep EXIF and XMP, but without GPS and location properties."""

    KEEP_LOCATION = "keep_location"
    """Keep only the location: a rebuilt EXIF block holding the GPS IFD (and the
    orientation rendering needs); every other block is removed as with ``ALL``."""


@dataclass(frozen=True, slots=True)
class StripOptions:
    """Options for one strip operation.

    ``mode`` chooses between removing everything (default), removing the location only,
    and keeping the location only; ``drop_icc`` also removes the colour profile (colours may then render
    slightly differently, pixels are unchanged).
    """

    mode: StripMode = StripMode.ALL
    drop_icc: bool = False

    @property
    def location_only(self) -> bool:
        """True when EXIF/XMP are kept minus their location data."""
        return self.mode is StripMode.LOCATION

    @property
    def keeps_location(self) -> bool:
        """True when everything but the EXIF GPS location (and orientation) is removed."""
        return self.mode is StripMode.KEEP_LOCATION
