"""
Secure sharing: a photo leaves the device through the photo stripper, with its location and
metadata removed by default; keeping the location is an explicit choice made per share.
"""

from __future__ import annotations

from charter.photos import StripMode, StripOptions, StripReport, strip_bytes


def share_photo(
    data: bytes, *, keep_location: bool = False, name: str = "photo"
) -> tuple[bytes, StripReport | None]:
    """The bytes to share and what was removed. With ``keep_location`` (this share only) the
    photo goes unchanged."""
    if keep_location:
        return data, None
    return strip_bytes(data, options=StripOptions(mode=StripMode.ALL), name=name)
