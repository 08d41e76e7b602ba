"""Secure photo sharing: lossless metadata stripping for JPEG, PNG, WebP and HEIF.

The image data is never decoded or re-encoded: only container-level metadata blocks
are removed, so decoded pixels are identical before and after. See ``docs/photos.md``.
"""

from charter.photos.errors import ErrorCode, PhotoFormatError
from charter.photos.formats import PhotoFormat, detect_format
from charter.photos.inspect import Inventory, inspect_file
from charter.photos.options import StripMode, StripOptions
from charter.photos.report import StripReport
from charter.photos.strip import detect_file_format, strip_bytes, strip_file, strip_stream

__all__ = [
    "ErrorCode",
    "Inventory",
    "PhotoFormat",
    "PhotoFormatError",
    "StripMode",
    "StripOptions",
    "StripReport",
    "detect_file_format",
    "detect_format",
    "inspect_file",
    "strip_bytes",
    "strip_file",
    "strip_stream",
]
