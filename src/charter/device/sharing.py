"""
Secure sharing: a photo leaves the device through the photo stripper, with its location and
metadata removed by default.

Keeping the location is an explicit choice made per share. :mod:`charter.photos` removes
either everything or the location only; it has no mode that keeps the location alone (that
would mean rebuilding each format's EXIF around its GPS block), so a share that keeps the
location keeps the photo as it is, every other metadata block too, and the device asks for
that second choice explicitly: ``keep_location=True`` needs ``keep_other_metadata=True``.
"""

from __future__ import annotations

from charter.errors import InputError
from charter.photos import StripMode, StripOptions, StripReport, strip_bytes


def share_photo(
    data: bytes,
    *,
    keep_location: bool = False,
    keep_other_metadata: bool = False,
    name: str = "photo",
) -> tuple[bytes, StripReport | None]:
    """
    The bytes to share and what was removed. By default every metadata block goes,
    the location with it. With ``keep_other_metadata`` alone, only the location goes. With
    both flags (this share only), the photo goes unchanged.

    Raises:
        InputError: ``keep_location`` without ``keep_other_metadata`` (the stripper cannot
            keep the location alone).
    """
    if keep_location and not keep_other_metadata:
        raise InputError(
            "keeping the location keeps every other metadata block too (camera, time, "
            "software); choose keep_other_metadata as well for this share, or share without "
            "the location",
            field="keep_location",
        )
    if keep_location:
        return data, None
    mode = StripMode.LOCATION if keep_other_metadata else StripMode.ALL
    return strip_bytes(data, options=StripOptions(mode=mode), name=name)
