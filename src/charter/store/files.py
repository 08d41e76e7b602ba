"""
The file registry: every file Charter writes, who writes it, whether it can hold personal
data and what account erasure does to it. The table registry (:mod:`charter.store.registry`)
does the same for rows.

Each module that writes files registers them here, by glob patterns under the data
directory (or, for short-lived files, the system's temporary folder)::

    register_file_writer(
        "outbox",
        ("outbox/codes.jsonl", "outbox/.codes.jsonl.lock"),
        holds="addresses verification codes were sent to, with the codes",
        erasure="the person's lines are removed when the account is deleted",
        on_erase=remove_lines_of_subject,
    )

Account erasure calls every ``on_erase`` hook (:func:`erase_subject_files`) for each file
its patterns match, while the subject's rows still exist (a hook may look up, say, the
keyed hashes of the person's addresses). ``verify-erasure`` scans every file of every
writer and reports files that no writer registered (:func:`unregistered_files`);
``tests/test_file_registry.py`` fails on such a file after a full round of activity.
"""

from __future__ import annotations

import fnmatch
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from charter.crypto import Keyring

__all__ = [
    "DATA",
    "TEMP",
    "FileWriter",
    "SubjectFiles",
    "erase_subject_files",
    "file_writers",
    "register_file_writer",
    "temp_files",
    "unregistered_files",
    "writer_of",
]

DATA = "data"
"""Files under the data directory."""
TEMP = "temp"
"""Short-lived files in the system's temporary folder (removed when their request ends)."""
FAST_CHECKS = frozenset({"content", "rows", "records"})


@dataclass(frozen=True, slots=True)
class SubjectFiles:
    """What an erasure hook gets: the subject, the open control transaction (the subject's
    rows still exist) and the keyring (for keyed hashes)."""

    subject_id: str
    conn: Connection
    keyring: Keyring


FileEraseHook = Callable[[Path, SubjectFiles], int]
"""Remove or redact one file's data of a subject; returns how many entries went."""


@dataclass(frozen=True)
class FileWriter:
    """One registered writer of files."""

    name: str
    patterns: tuple[str, ...]
    """Glob patterns, relative to the data directory (``*`` does not cross ``/``; a leading
    ``**/`` or a trailing ``/**`` spans folders) or, for :data:`TEMP`, names in the temporary folder."""
    holds: str
    """What personal data the files can hold ("" when none)."""
    erasure: str
    """What account erasure does to the files (a sentence for the operator)."""
    on_erase: FileEraseHook | None = None
    where: str = DATA
    fast_check: str = "content"
    """What ``verify-erasure`` without ``--deep`` does with the files: ``content`` (read them
    for the subject's ids: files that stay small), ``rows`` (they are the databases: the
    registered tables are queried by subject instead) or ``records`` (files named by record id
    under a subject's folder: looked up by name); every file is read by ``--deep``, except
    key files."""
    keys: bool = False
    """The files hold only random key material (``holds`` is then empty): no check reads
    them, since any needle turns up in enough random bytes by chance."""

    @property
    def personal(self) -> bool:
        """Whether the files can hold personal data."""
        return bool(self.holds)

    def matches(self, relative: str) -> bool:
        """Whether ``relative`` (a POSIX path under the writer's folder) is one of its files."""
        return any(_match(relative, p) for p in self.patterns)


def _match(relative: str, pattern: str) -> bool:
    if pattern.endswith("/**"):
        head = pattern[:-3]
        parts = relative.split("/")
        return len(parts) > head.count("/") + 1 and _match(
            "/".join(parts[: head.count("/") + 1]), head
        )
    if pattern.startswith("**/"):
        rest = pattern[3:]
        parts = relative.split("/")
        return any(_match("/".join(parts[i:]), rest) for i in range(len(parts)))
    if relative.count("/") != pattern.count("/"):
        return False
    return all(
        fnmatch.fnmatchcase(a, b)
        for a, b in zip(relative.split("/"), pattern.split("/"), strict=True)
    )


_LOCK = threading.Lock()
_WRITERS: dict[str, FileWriter] = {}


def register_file_writer(
    name: str,
    patterns: tuple[str, ...],
    *,
    holds: str,
    erasure: str,
    on_erase: FileEraseHook | None = None,
    where: str = DATA,
    fast_check: str = "content",
    keys: bool = False,
) -> FileWriter:
    """
    Register a writer of files.

    Raises:
        ValueError: no patterns, an unknown ``where``, files with personal data and no
            sentence on their erasure, or the name registered twice differently.
    """
    if not patterns:
        raise ValueError(f"{name}: a writer names at least one file pattern")
    if where not in (DATA, TEMP):
        raise ValueError(f"{name}: where must be {DATA!r} or {TEMP!r}")
    if holds and not erasure:
        raise ValueError(f"{name}: files with personal data must say what erasure does to them")
    if fast_check not in FAST_CHECKS:
        raise ValueError(f"{name}: fast_check must be one of {sorted(FAST_CHECKS)}")
    if keys and holds:
        raise ValueError(f"{name}: key files hold no personal data (holds must be empty)")
    writer = FileWriter(name, tuple(patterns), holds, erasure, on_erase, where, fast_check, keys)
    with _LOCK:
        found = _WRITERS.get(name)
        if found is not None and found != writer:
            raise ValueError(f"{name} is registered twice")
        _WRITERS[name] = writer
    return writer


def file_writers() -> list[FileWriter]:
    """Every registered writer, in registration order."""
    with _LOCK:
        return list(_WRITERS.values())


def writer_of(relative: str, where: str = DATA) -> FileWriter | None:
    """The writer whose patterns match ``relative``, if any."""
    for writer in file_writers():
        if writer.where == where and writer.matches(relative):
            return writer
    return None


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path, path.relative_to(root).as_posix()


def unregistered_files(data_dir: Path) -> list[str]:
    """Files under the data directory that no writer registered (relative POSIX paths)."""
    return [rel for _path, rel in _files(data_dir) if writer_of(rel) is None]


def temp_files() -> list[Path]:
    """The registered writers' files now in the system's temporary folder."""
    root = Path(tempfile.gettempdir())
    found: list[Path] = []
    for writer in file_writers():
        if writer.where == TEMP:
            for pattern in writer.patterns:
                found += [p for p in root.glob(pattern) if p.is_file()]
    return sorted(set(found))


def erase_subject_files(
    data_dir: Path, conn: Connection, subject_id: str, keyring: Keyring
) -> dict[str, int]:
    """
    Run every writer's erasure hook on each of its files under ``data_dir`` (inside the
    caller's control transaction, before the subject's rows go); returns entries removed
    per writer.
    """
    subject = SubjectFiles(subject_id, conn, keyring)
    removed: dict[str, int] = {}
    hooked = [w for w in file_writers() if w.on_erase is not None and w.where == DATA]
    if not hooked:
        return removed
    for path, rel in _files(data_dir):
        for writer in hooked:
            if writer.matches(rel):
                assert writer.on_erase is not None
                n = writer.on_erase(path, subject)
                removed[writer.name] = removed.get(writer.name, 0) + n
    return removed
