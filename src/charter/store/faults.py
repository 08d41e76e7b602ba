"""
Telling a full disk from other database and file errors, on SQLite, PostgreSQL and the
file system alike, so the front ends can answer "storage is full" instead of a generic
failure. Nothing acknowledged is lost when storage fills: the failing transaction rolls back
and later writes succeed as soon as space returns, without a restart.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

SQLITE_FULL = 13
"""SQLite's result code for "database or disk is full"."""

PG_DISK_FULL = "53100"
"""PostgreSQL's SQLSTATE ``disk_full``."""

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_storage_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it wraps or was raised from, means storage is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _says_full(current):
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's
        if isinstance(orig, BaseException) and _says_full(orig):
            return True
        current = current.__cause__ or current.__context__
    return False


def _says_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    return getattr(exc, "sqlstate", None) == PG_DISK_FULL


def free_bytes(path: Path) -> int:
    """Free space for unprivileged writers on the file system holding ``path``."""
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent
    return shutil.disk_usage(target).free
