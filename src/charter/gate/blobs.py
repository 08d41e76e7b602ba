"""
Blobs: the large content of records (photos, files, a cloud item), sealed with the
subject's data key and bound to subject and record (:func:`~charter.gate.protect.blob_aad`,
the :class:`~charter.crypto.FieldCipher` envelope).

- **Small blobs travel with their record.** A blob of at most :data:`INLINE_MAX` bytes whose
  event carries no value is sealed into the record's ``value`` column, and the record's
  ``blob`` names :data:`INLINE`: the record's commit makes it durable, with no file and no
  fsync of its own (a batch of 500 contacts is one transaction, one commit). Readers of
  values take :func:`stored_value`, which is None for such a record.
- **Larger blobs are files**, ``<blob dir>/<subject id[2:4]>/<record id>``, written by a
  :class:`BlobBatch` for one collect batch and made durable **together** before the batch's
  records commit: every file is written, then fsynced concurrently (the file system groups
  concurrent fsyncs into few journal commits), then each directory that gained a name is
  fsynced once. A blob is durable before its record commits; a record never names a blob
  that could be lost.
- **No orphans.** Before the first file of a batch exists, the batch's intent (the names it
  will write) is made durable in ``<blob dir>/.pending/``; it is removed once the records
  committed, or with the files when the batch fails. After a crash between the files and
  the commit, :func:`sweep_pending` (run by the purge) removes every file an old intent names
  whose record does not exist, then the intent.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from charter.crypto import FieldCipher
from charter.errors import NotFoundError
from charter.gate.protect import blob_aad

INLINE = "@inline"
"""The ``blob`` of a record whose sealed blob is in its ``value`` column."""
INLINE_MAX = 4096
"""The largest blob kept in its record (bytes before sealing)."""
PENDING = ".pending"
"""The folder of batch intents, under a region's blob folder."""
PENDING_GRACE_MICROS = 3600 * 1_000_000
"""An intent older than this belongs to a batch that cannot still be running."""
_FSYNC_THREADS = 8


def is_inline(blob: str | None) -> bool:
    """The record's blob is in its ``value`` column."""
    return blob == INLINE


def stored_value(row: Any) -> Any:
    """A record row's protected value, or None when the row holds none (an inline blob is
    no value)."""
    return None if row.blob == INLINE else row.value


def blob_name(subject_id: str, record_id: str) -> str:
    """The file name of a record's blob, relative to the region's blob folder."""
    return f"{subject_id[2:4]}/{record_id}"


def read_blob(
    blob_dir: Path, cipher: FieldCipher, subject_id: str, record_id: str, blob: str, value: Any
) -> bytes:
    """
    A record's blob, decrypted (inline or from its file).

    Raises:
        NotFoundError: its file is gone.
        IntegrityError: the sealed bytes were altered (or belong to another record).
    """
    if blob == INLINE:
        if value is None:
            raise NotFoundError("the blob is no longer available", field="record_id")
        sealed = bytes(value)
    else:
        try:
            sealed = (blob_dir / blob).read_bytes()
        except FileNotFoundError:
            raise NotFoundError("the blob is no longer available", field="record_id") from None
    return cipher.decrypt(sealed, aad=blob_aad(subject_id, record_id))


def remove_blobs(blob_dir: Path, names: Iterable[str | None]) -> None:
    """Unlink the files of some records' blobs (inline ones have none; a missing file is
    fine, so a rerun after a crash goes on)."""
    for name in names:
        if name and name != INLINE:
            (blob_dir / name).unlink(missing_ok=True)


class BlobBatch:
    """The blobs of one collect batch in one region (see the module docstring)."""

    def __init__(self, blob_dir: Path, now: int) -> None:
        self.blob_dir = blob_dir
        self.now = now
        self._files: list[tuple[str, bytes]] = []
        self._written: list[Path] = []
        self._intent: Path | None = None

    def seal(
        self, cipher: FieldCipher, subject_id: str, record_id: str, data: bytes, *, inline: bool
    ) -> tuple[str, bytes | None]:
        """
        Seal one record's blob: returns the record's ``blob`` and, when the blob stays in the
        record (``inline`` allowed and small enough), the sealed bytes for its ``value``.
        A file is written by :meth:`write`.
        """
        sealed = cipher.encrypt(data, aad=blob_aad(subject_id, record_id))
        if inline and len(data) <= INLINE_MAX:
            return INLINE, sealed
        name = blob_name(subject_id, record_id)
        self._files.append((name, sealed))
        return name, None

    def write(self) -> None:
        """Make every file of the batch durable (intent first, then the files and their
        folders); call before the records commit."""
        if not self._files:
            return
        pending = self.blob_dir / PENDING
        self._intent = pending / f"{self.now:016x}-{secrets.token_hex(8)}"
        created = _mkdir(pending)
        _write_file(self._intent, "\n".join(n for n, _ in self._files).encode())
        _fsync_dirs([pending, self.blob_dir] if created else [pending])
        folders: set[Path] = set()
        new_folder = False
        for name, sealed in self._files:
            path = self.blob_dir / name
            if path.parent not in folders:
                folders.add(path.parent)
                new_folder |= _mkdir(path.parent)
            self._written.append(path)
            _write_file(path, sealed, fsync=False)
        self._files.clear()
        _fsync_paths(self._written)
        _fsync_dirs([*folders, self.blob_dir] if new_folder else folders)

    def done(self) -> None:
        """The records committed: the intent goes (no fsync: a surviving intent only makes
        the sweep check names that all have records)."""
        if self._intent is not None:
            self._intent.unlink(missing_ok=True)
            self._intent = None

    def discard(self) -> None:
        """The batch failed: its files go, then its intent."""
        for path in self._written:
            path.unlink(missing_ok=True)
        self._written.clear()
        self._files.clear()
        self.done()


def sweep_pending(
    blob_dir: Path, now: int, existing: Callable[[list[str]], set[str]]
) -> tuple[int, int]:
    """
    Finish batches interrupted between their blob files and their commit: for every intent
    older than :data:`PENDING_GRACE_MICROS`, remove the named files whose record does not
    exist (``existing`` answers which record ids do), then the intent. Returns (intents,
    files removed).
    """
    pending = blob_dir / PENDING
    if not pending.is_dir():
        return 0, 0
    intents = files = 0
    for intent in sorted(pending.iterdir()):
        stamp = intent.name.partition("-")[0]
        try:
            started = int(stamp, 16)
        except ValueError:
            continue
        if started > now - PENDING_GRACE_MICROS:
            continue
        names = [n for n in intent.read_text().splitlines() if n and ".." not in n]
        have = existing([n.rpartition("/")[2] for n in names])
        for name in names:
            if name.rpartition("/")[2] not in have:
                path = blob_dir / name
                if path.exists():
                    path.unlink()
                    files += 1
        intent.unlink(missing_ok=True)
        intents += 1
    return intents, files


def _mkdir(path: Path) -> bool:
    """Create a folder (0700) unless it exists; True when it was created."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return False
    return True


def _write_file(path: Path, data: bytes, *, fsync: bool = True) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_paths(paths: list[Path]) -> None:
    """fsync files, concurrently when there are several (one journal commit serves many)."""
    if len(paths) == 1:
        _fsync_path(paths[0])
        return
    with ThreadPoolExecutor(min(_FSYNC_THREADS, len(paths))) as pool:
        list(pool.map(_fsync_path, paths))


def _fsync_dirs(folders: Iterable[Path]) -> None:
    for folder in folders:
        _fsync_path(folder)
