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
  records commit: every file is written under ``<blob dir>/.pending/`` (encrypted a slice
  at a time by :meth:`~charter.crypto.FieldCipher.encrypt_to`, each slice written by a pool
  thread while the next is encrypted: the same envelope), then all of them and
  that folder are fsynced concurrently (the file system groups concurrent fsyncs into few
  journal commits); only then do the records commit, after which each file is renamed to its
  place (no fsync needed: readers look in ``.pending/`` too). So a blob is durable before its
  record commits, and a committed record never names a blob that could be lost: two fsyncs
  per batch and blob file, as a durable file copy takes.
- **No orphans.** A crash between the files and the commit leaves files in ``.pending/``
  only; :func:`sweep_pending` (run by the purge) moves each old one whose record exists to
  its place and removes the others.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from charter.crypto import SLICE_BYTES, FieldCipher
from charter.errors import InputError, NotFoundError
from charter.gate.protect import blob_aad
from charter.store.regions import RegionStores

INLINE = "@inline"
"""The ``blob`` of a record whose sealed blob is in its ``value`` column."""
INLINE_MAX = 4096
"""The largest blob kept in its record (bytes before sealing)."""
HEAD_BYTES = 64
"""How much of a staged blob's content it keeps in the clear for format checks."""
SYNC_EVERY = SLICE_BYTES
"""A staged blob starts making its file durable after each this many bytes (each slice: the
disk then works while the rest arrives, and at the end only the last slice is left to flush;
every second slice left about 1 ms more to wait for a 4 MB upload)."""
PENDING = ".pending"
"""The folder of batch intents, under a region's blob folder."""
PENDING_GRACE_MICROS = 3600 * 1_000_000
"""An intent older than this belongs to a batch that cannot still be running."""
_IO_THREADS = 8
_RING = 3
"""Slice buffers per blob being sealed: one encrypted into while two are written."""
_KEEP_RINGS = 4
"""Free rings kept (3 MiB each); more concurrent seals allocate theirs."""
_rings: list[tuple[bytearray, ...]] = []
"""Free slice buffers (list.pop and append are atomic: threads share it safely)."""


def is_inline(blob: str | None) -> bool:
    """The record's blob is in its ``value`` column."""
    return blob == INLINE


def stored_value(row: Any) -> Any:
    """A record row's protected value, or None when the row holds none (an inline blob is
    no value)."""
    return None if row.blob == INLINE else row.value


def new_record_id(now: int) -> str:
    """A record id ordered by time, as a collect batch draws them: 16 hex digits of ``now``
    (microseconds), then 64 random bits."""
    return f"{now:016x}{os.urandom(8).hex()}"


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
            try:  # committed, not yet moved to its place
                sealed = (blob_dir / PENDING / _pending_name(blob)).read_bytes()
            except FileNotFoundError:
                raise NotFoundError("the blob is no longer available", field="record_id") from None
    return cipher.decrypt(sealed, aad=blob_aad(subject_id, record_id))


def remove_blobs(blob_dir: Path, names: Iterable[str | None]) -> None:
    """Unlink the files of some records' blobs (inline ones have none; a missing file is
    fine, so a rerun after a crash goes on)."""
    for name in names:
        if name and name != INLINE:
            (blob_dir / name).unlink(missing_ok=True)
            (blob_dir / PENDING / _pending_name(name)).unlink(missing_ok=True)


class BlobBatch:
    """The blobs of one collect batch in one region (see the module docstring)."""

    def __init__(self, stores: RegionStores, region: str) -> None:
        self.stores = stores
        self.region = region
        self._files: list[tuple[str, FieldCipher, bytes, bytes]] = []
        self._adopted: list[StagedBlob] = []
        self._written: list[str] = []

    @property
    def blob_dir(self) -> Path:
        """The region's blob folder (looked up when a file is written, not per batch)."""
        return self.stores.blob_dir(self.region)

    def seal(
        self, cipher: FieldCipher, subject_id: str, record_id: str, data: bytes, *, inline: bool
    ) -> tuple[str, bytes | None]:
        """
        Seal one record's blob: returns the record's ``blob`` and, when the blob stays in the
        record (``inline`` allowed and small enough), the sealed bytes for its ``value``.
        A file is sealed and written by :meth:`write`.
        """
        aad = blob_aad(subject_id, record_id)
        if inline and len(data) <= INLINE_MAX:
            return INLINE, cipher.encrypt(data, aad=aad)
        name = blob_name(subject_id, record_id)
        self._files.append((name, cipher, data, aad))  # sealed straight into its file
        return name, None

    def adopt(self, staged: StagedBlob) -> str:
        """Take a blob sealed while it arrived (closed) into the batch: its file becomes
        durable with the batch's others. Returns the record's ``blob``."""
        staged.close()
        self._adopted.append(staged)
        return staged.name

    def write(self) -> None:
        """Make every file of the batch durable under ``.pending/``; call before the records
        commit."""
        adopted, self._adopted = self._adopted, []
        for staged in adopted:
            self._written.append(staged.name)
            staged.settle()  # durable with its name since close(), or now
        if not self._files:
            return
        pending = self.blob_dir / PENDING
        if _mkdir(pending):
            _fsync_path(self.blob_dir)
        paths = []
        for name, cipher, data, aad in self._files:
            path = pending / _pending_name(name)
            self._written.append(name)
            paths.append(path)
            _seal_file(path, cipher, data, aad)
        self._files.clear()
        _fsync_paths([*paths, pending])  # the files and their names, all at once

    def done(self) -> None:
        """The records committed: each file moves to its place."""
        for name in self._written:
            _settle(self.blob_dir, name)
        self._written.clear()

    def discard(self) -> None:
        """The batch failed: its files go."""
        pending = self.blob_dir / PENDING
        for name in self._written:
            (pending / _pending_name(name)).unlink(missing_ok=True)
        for staged in self._adopted:
            staged.discard()
        self._written.clear()
        self._files.clear()
        self._adopted.clear()


class StagedBlob:
    """
    A large blob sealed into its ``.pending/`` file while it is still arriving (an upload's
    body, chunk by chunk), before its record is collected: the same envelope and file as
    :class:`BlobBatch` makes from whole content. :meth:`write` encrypts each chunk on the
    calling thread into a slice buffer; a full slice is written by a pool thread, and every
    :data:`SYNC_EVERY` bytes a pool thread starts making the file durable, so the disk works
    while the rest arrives. :meth:`close` seals the end; a collect batch then adopts the file
    (:meth:`BlobBatch.adopt`) and makes it durable with its others before the record commits.
    Until a record adopts it the file is an intent like any other in ``.pending/``: gone with
    :meth:`discard`, or swept after a crash.

    Thread-unsafe: one writer (the request receiving the body).
    """

    def __init__(
        self, blob_dir: Path, cipher: FieldCipher, subject_id: str, record_id: str
    ) -> None:
        self.cipher = cipher
        self.subject_id = subject_id
        self.record_id = record_id
        self.name = blob_name(subject_id, record_id)
        self.head = b""
        """The content's first :data:`HEAD_BYTES` bytes (a format check reads them)."""
        self.announced: int | None = None
        """The size its stager announced and checked before it arrived (None: none)."""
        pending = blob_dir / PENDING
        if _mkdir(pending):
            _fsync_path(blob_dir)
        self.path = pending / _pending_name(self.name)
        self._sealing = cipher.sealing(aad=blob_aad(subject_id, record_id))
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._ring = list(_take_ring())
        self._turn = 0
        self._busy: list[Future[None] | None] = [None] * len(self._ring)
        """Per buffer, its write in flight (the buffer is reused once it is done)."""
        self._started: list[Future[None]] = []
        """Every write and sync started (their errors are raised by :meth:`settle`)."""
        self._fill = 0
        self._offset = 0
        self._unsynced = 0
        self._closed = False
        self._put(self._sealing.head)

    @property
    def size(self) -> int:
        """Content bytes received so far (all of them after :meth:`close`)."""
        return self._sealing.length

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Seal the next chunk of the content (any length)."""
        if self._closed:
            raise InputError("this blob is sealed already", field="blob")
        view = memoryview(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += bytes(view[: HEAD_BYTES - len(self.head)])
        while view:
            piece = view[: SLICE_BYTES - self._fill]
            view = view[len(piece) :]
            buffer = memoryview(self._ring[self._turn])[self._fill :]
            self._fill += self._sealing.update_into(piece, buffer)
            if self._fill >= SLICE_BYTES:
                self._flush()

    def close(self) -> int:
        """Seal the end of the content and start making the file and its name durable (a
        pool thread, while the caller goes on); returns the content's size. :meth:`settle`
        waits for it."""
        if not self._closed and self._fd is not None:
            self._closed = True
            self._put(self._sealing.finalize())
            self._flush()
            writes, fd = list(self._started), self._fd
            self._started.append(_io_pool.submit(_sync_after, writes, fd))
            self._started.append(_io_pool.submit(_fsync_path, self.path.parent))
        return self.size

    def settle(self) -> None:
        """Wait until the whole file is written and durable (after :meth:`close`), then close
        it. Raises what a write or sync raised."""
        self.close()
        started, self._started = self._started, []
        wait(started)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            if len(_rings) < _KEEP_RINGS:  # (a ring grown while writes lagged: its first)
                _rings.append(tuple(self._ring[:_RING]))
        for done in started:
            done.result()

    def discard(self) -> None:
        """Give up: the file goes (nothing when a record adopted it and it moved on)."""
        self._closed = True
        with contextlib.suppress(OSError):
            self.settle()
        self.path.unlink(missing_ok=True)

    def _put(self, data: bytes) -> None:
        """Copy a few plain bytes (the head, the tag) into the current slice."""
        end = self._fill + len(data)
        if end > SLICE_BYTES:
            self._flush()
            end = len(data)
        self._ring[self._turn][end - len(data) : end] = data
        self._fill = end

    def _flush(self) -> None:
        """Hand the current slice to a pool thread and move to the next buffer (a new one
        when the next is still being written, so the receiving thread never waits)."""
        if not self._fill or self._fd is None:
            return
        piece = memoryview(self._ring[self._turn])[: self._fill]
        self._busy[self._turn] = written = _io_pool.submit(_pwrite, self._fd, piece, self._offset)
        self._started.append(written)
        self._offset += self._fill
        self._unsynced += self._fill
        self._fill = 0
        if self._unsynced >= SYNC_EVERY:
            self._unsynced = 0
            self._started.append(_io_pool.submit(os.fdatasync, self._fd))
        self._turn = (self._turn + 1) % len(self._ring)
        waiting = self._busy[self._turn]
        if waiting is not None and not waiting.done():
            self._ring.insert(self._turn, bytearray(SLICE_BYTES + 16))
            self._busy.insert(self._turn, None)


def sweep_pending(
    blob_dir: Path, now: int, existing: Callable[[list[str]], set[str]]
) -> tuple[int, int]:
    """
    Finish batches a crash interrupted: every file in ``.pending/`` older than
    :data:`PENDING_GRACE_MICROS` (by its record id's time) moves to its place when its
    record exists (``existing`` answers which record ids do) and is removed otherwise.
    Returns (files settled, files removed).
    """
    pending = blob_dir / PENDING
    if not pending.is_dir():
        return 0, 0
    old: dict[str, str] = {}
    for path in pending.iterdir():
        shard, _, record_id = path.name.partition("-")
        try:
            started = int(record_id[:16], 16)
        except ValueError:
            continue
        if started <= now - PENDING_GRACE_MICROS:
            old[record_id] = f"{shard}/{record_id}"
    have = existing(sorted(old)) if old else set()
    settled = removed = 0
    for record_id, name in old.items():
        if record_id in have:
            _settle(blob_dir, name)
            settled += 1
        else:
            (pending / _pending_name(name)).unlink(missing_ok=True)
            removed += 1
    return settled, removed


def _pending_name(name: str) -> str:
    return name.replace("/", "-")


def _settle(blob_dir: Path, name: str) -> None:
    """Move a committed record's blob from ``.pending/`` to its place."""
    path = blob_dir / name
    path.parent.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):  # already in place (a sweep, a rerun)
        os.replace(blob_dir / PENDING / _pending_name(name), path)


def _mkdir(path: Path) -> bool:
    """Create a folder (0700) unless it exists; True when it was created."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return False
    return True


def _seal_file(path: Path, cipher: FieldCipher, data: bytes, aad: bytes) -> None:
    """Encrypt ``data`` into a new file at ``path`` (the :class:`FieldCipher` envelope): each
    slice is written by a thread of the pool while the next one is encrypted."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    writes: list[Future[None]] = []
    offset = 0
    ring = _take_ring()

    def write(piece: memoryview) -> None:
        nonlocal offset
        writes.append(_io_pool.submit(_pwrite, fd, piece, offset))
        offset += len(piece)
        if len(writes) >= _RING:  # the slice whose buffer comes round next is written
            writes[-_RING].result()

    try:
        cipher.encrypt_to(data, aad=aad, write=write, buffers=ring)
    finally:
        wait(writes)  # every write done before the file is closed, even after an error
        os.close(fd)
        if len(_rings) < _KEEP_RINGS:
            _rings.append(ring)
    for done in writes:
        done.result()


def _sync_after(writes: list[Future[None]], fd: int) -> None:
    """fsync ``fd`` once ``writes`` (started before this) are done."""
    wait(writes)
    os.fsync(fd)


def _take_ring() -> tuple[bytearray, ...]:
    """Buffers to encrypt a blob's slices into, kept from an earlier blob when one is free:
    a fresh megabyte costs its page faults on every slice."""
    try:
        return _rings.pop()
    except IndexError:
        return tuple(bytearray(SLICE_BYTES + 16) for _ in range(_RING))


def _pwrite(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_io_pool = ThreadPoolExecutor(_IO_THREADS, thread_name_prefix="charter-blob-io")


def _fsync_paths(paths: list[Path]) -> None:
    """fsync files and folders concurrently (one journal commit serves many): all but the
    last in a kept pool of threads, the last in this one; returns when all are done."""
    started = [_io_pool.submit(_fsync_path, path) for path in paths[:-1]]
    _fsync_path(paths[-1])
    for future in started:
        future.result()
