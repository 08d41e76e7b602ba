"""
Secure sharing: a photo leaves the device through the photo stripper, with its location and
metadata removed by default.

Keeping the location is an explicit choice made per share (``keep_location``): the stripper's
keep-location-only mode (:attr:`charter.photos.StripMode.KEEP_LOCATION`) keeps the EXIF GPS
block and removes every other one. Keeping the other metadata is a choice of its own
(``keep_other_metadata``: only the location goes); both together share the photo as it is.
"""

from __future__ import annotations

from charter.photos import StripMode, StripOptions, StripReport, strip_bytes


def share_photo(
    data: bytes,
    *,
    keep_location: bool = False,
    keep_other_metadata: bool = False,
    name: str = "photo",
) -> tuple[bytes, StripReport | None]:
    """
    The bytes to share and what was removed. By default every metadata block goes, the
    location with it. ``keep_location`` alone keeps the location only; ``keep_other_metadata``
    alone removes the location only; both (this share only) send the photo unchanged.

    Raises:
        PhotoFormatError: not a photo the stripper reads (nothing is shared).
    """
    if keep_location and keep_other_metadata:
        return data, None
    if keep_location:
        mode = StripMode.KEEP_LOCATION
    else:
        mode = StripMode.LOCATION if keep_other_metadata else StripMode.ALL
    return strip_bytes(data, options=StripOptions(mode=mode), name=name)
