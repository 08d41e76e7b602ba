"""Independent checks for the photo tests: pixel decoding and an exiftool peer."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings
from collections.abc import Iterable
from pathlib import Path

import pytest
from photo_corpus import CANARY
from PIL import Image

EXIFTOOL = shutil.which("exiftool")
_ALLOWED_GROUPS = {
    "SourceFile",
    "System",
    "File",
    "ExifTool",
    "Composite",
    "JFIF",
    "Adobe",
    "ICC-header",
    "ICC_Profile",
    "ICC-chrm",
    "ICC-meas",
    "ICC-view",
    "PNG",
    "RIFF",
    "QuickTime",
    "Meta",
}
_ALLOWED_TAGS = {"IFD0:Orientation", "ExifTool:ExifToolVersion"}
_FORBIDDEN_TAGS = {"Comment", "Warning", "Error", "Author", "Title", "Software"}


def decode(data: bytes) -> Image.Image:
    """Decode raw pixels; inputs may carry deliberately odd metadata, so mute warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = Image.open(io.BytesIO(data))
        im.load()
    return im


def exiftool_leaks(paths: Iterable[Path]) -> dict[str, list[str]]:
    """Ask exiftool (when installed) which metadata tags survive in each file."""
    files = [str(p) for p in paths]
    if EXIFTOOL is None or not files:
        return {}
    out = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-a", "-u", "-api", "LargeFileSupport=1", *files],
        capture_output=True,
        check=False,
        timeout=120,
    ).stdout
    leaks: dict[str, list[str]] = {}
    for record in json.loads(out or b"[]"):
        bad = []
        for key, value in record.items():
            group, _, tag = key.partition(":")
            if CANARY.decode() in str(value):
                bad.append(key)
            elif key in _ALLOWED_TAGS:
                continue
            elif group not in _ALLOWED_GROUPS or tag in _FORBIDDEN_TAGS:
                bad.append(key)
        leaks[Path(record["SourceFile"]).name] = bad
    return leaks


needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
