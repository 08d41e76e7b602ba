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


PG_UNAVAILABLE_CLASSES = ("08", "57P")
"""SQLSTATE classes of a database that is gone or going: connection exceptions (08xxx) and
operator intervention (57Pxx: shutdown, crash shutdown, cannot connect now)."""


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means a database server cannot be reached or was lost mid-request
    (SQLAlchemy marks such errors as disconnects); the request can be retried later."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "connection_invalidated", False):
            return True
        for candidate in (current, getattr(current, "orig", None)):
            sqlstate = getattr(candidate, "sqlstate", None)
            if isinstance(sqlstate, str) and sqlstate.startswith(PG_UNAVAILABLE_CLASSES):
                return True
            if type(candidate).__name__ == "OperationalError" and _looks_unreachable(candidate):
                return True
        current = current.__cause__ or current.__context__
    return False


def _looks_unreachable(exc: object) -> bool:
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    module = type(exc).__module__
    return module.startswith("psycopg") and getattr(exc, "sqlstate", None) is None


PG_INTEGRITY_CLASS = "23"
"""SQLSTATE class of integrity constraint violations (unique, foreign key, not null, check)."""


def is_constraint_violation(exc: BaseException) -> bool:
    """
    Whether ``exc`` (or an exception it wraps or was raised from) is a database constraint
    violation: a unique key taken, a row referenced that another transaction or process
    removed meanwhile. The request conflicts with the data's current state; nothing of it
    was stored (the transaction rolled back), so it is answered 409, never 500.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            if candidate is None:
                continue
            if type(candidate).__name__ == "IntegrityError" and type(
                candidate
            ).__module__.startswith(("sqlalchemy", "sqlite3", "psycopg")):
                return True
            sqlstate = getattr(candidate, "sqlstate", None)
            if isinstance(sqlstate, str) and sqlstate.startswith(PG_INTEGRITY_CLASS):
                return True
        current = current.__cause__ or current.__context__
    return False


def free_bytes(path: Path) -> int:
    """Free space for unprivileged writers on the file system holding ``path``."""
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent
    return shutil.disk_usage(target).free
