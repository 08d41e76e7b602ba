"""
Resumable uploads of large content, in chunks with a checksum each.

1. ``begin`` announces the category, the total size and the SHA-256 of the whole content
   (and, to replace an item, its id and base version); the answer names the upload.
2. ``put_chunk`` appends the next chunk at the offset the server has; a chunk whose SHA-256
   does not match the one sent with it is refused and changes nothing. Each chunk is
   encrypted (AES-256-GCM, a key derived from the keyring for this upload) and made durable
   before the upload's row counts it, so a server killed mid-way loses at most the chunk in
   flight: ``status`` tells the device where to resume.
3. ``complete`` checks the whole content's SHA-256 and stores it as an item through
   :class:`~charter.services.cloud.sync.CloudSync` (the gate); the part file goes.

Part files live in ``<data dir>/cloud/uploads/``; an upload not completed within 24 hours is
dropped by ``purge_expired``, and account erasure removes a person's uploads.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, insert, select, update

from charter.errors import InputError, IntegrityError, NotFoundError
from charter.services.cloud.categories import category
from charter.services.cloud.tables import uploads
from charter.store.files import SubjectFiles, register_file_writer

if TYPE_CHECKING:
    from charter.services.cloud.model import Item
    from charter.services.cloud.sync import CloudSync

MICROS = 1_000_000
CHUNK_BYTES = 8 << 20
"""The largest chunk (the API's body limit for chunks follows it)."""
MAX_UPLOAD_BYTES = 4 << 30
UPLOAD_SECONDS = 24 * 3600
_HEADER = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class Upload:
    """Where an upload stands."""

    id: str
    category: str
    size: int
    received: int
    expires_at: int

    @property
    def complete(self) -> bool:
        """Every byte arrived."""
        return self.received == self.size


def _upload(row: Any) -> Upload:
    return Upload(row.id, row.category, row.size, row.received, row.expires_at)


class Uploads:
    """Resumable uploads of one deployment."""

    def __init__(self, sync: CloudSync, folder: Path) -> None:
        self.sync = sync
        self.folder = folder
        self.keyring = sync.gate.keyring
        self.clock = sync.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    def begin(
        self,
        subject_id: str,
        category_name: str,
        *,
        size: int,
        sha256: str,
        item_id: str | None = None,
        base_version: int | None = None,
    ) -> Upload:
        """
        Start an upload.

        Raises:
            InputError: unknown category, a size out of range or a malformed digest.
            RefusedError: the content would not fit the plan's quota.
        """
        category(category_name)
        if not 0 < size <= MAX_UPLOAD_BYTES:
            raise InputError(f"size is 1 to {MAX_UPLOAD_BYTES} bytes", field="size")
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InputError("sha256 is 64 lowercase hex digits", field="sha256")
        if item_id is not None and base_version is None:
            raise InputError("a replacement names the version it is based on", field="base_version")
        self.sync.check_quota(subject_id, size)
        upload_id = "cu_" + secrets.token_hex(16)
        now = self.clock()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.control.begin() as conn:
            conn.execute(
                insert(uploads).values(
                    subject_id=subject_id,
                    id=upload_id,
                    category=category_name,
                    item_id=item_id,
                    base_version=base_version,
                    size=size,
                    sha256=sha256,
                    received=0,
                    stored=0,
                    created_at=now,
                    expires_at=now + UPLOAD_SECONDS * MICROS,
                )
            )
        self._path(upload_id).touch(mode=0o600)
        return self.status(subject_id, upload_id)

    def status(self, subject_id: str, upload_id: str) -> Upload:
        """
        Where an upload stands (a device resumes from ``received``).

        Raises:
            NotFoundError: no such upload (or it expired).
        """
        return _upload(self._row(subject_id, upload_id))

    def put_chunk(
        self, subject_id: str, upload_id: str, *, offset: int, chunk: bytes, sha256: str
    ) -> Upload:
        """
        Append the chunk that starts at ``offset``.

        Raises:
            NotFoundError: no such upload.
            InputError: a chunk at another offset than the server has, too large, past the
                announced size, or whose SHA-256 is not ``sha256`` (nothing is kept).
        """
        row = self._row(subject_id, upload_id)
        if offset != row.received:
            raise InputError(
                f"the server has {row.received} bytes of this upload; send the chunk that "
                f"starts there",
                field="offset",
            )
        if not chunk or len(chunk) > CHUNK_BYTES:
            raise InputError(f"a chunk has 1 to {CHUNK_BYTES} bytes", field="chunk")
        if row.received + len(chunk) > row.size:
            raise InputError("the chunk goes past the announced size", field="chunk")
        if not hmac.compare_digest(hashlib.sha256(chunk).hexdigest(), sha256.lower()):
            raise InputError(
                "the chunk does not match its SHA-256; it was refused, send it again",
                field="sha256",
            )
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._cipher(upload_id).encrypt(nonce, chunk, _aad(upload_id, offset))
        path = self._path(upload_id)
        with path.open("r+b") as part:
            part.truncate(row.stored)  # drop a chunk written before a crash but never counted
            part.seek(row.stored)
            part.write(_HEADER.pack(len(sealed)) + sealed)
            part.flush()
            os.fsync(part.fileno())
        stored = row.stored + _HEADER.size + len(sealed)
        with self.control.begin() as conn:
            conn.execute(
                update(uploads)
                .where(
                    uploads.c.subject_id == subject_id,
                    uploads.c.id == upload_id,
                    uploads.c.received == offset,
                )
                .values(received=offset + len(chunk), stored=stored)
            )
        return self.status(subject_id, upload_id)

    def complete(self, subject_id: str, upload_id: str) -> Item:
        """
        Store the uploaded content as an item (new, or the replacement it announced).

        Raises:
            NotFoundError: no such upload.
            InputError: bytes are missing, or the whole content does not match its SHA-256.
            ConflictError: the item it replaces moved on meanwhile.
        """
        row = self._row(subject_id, upload_id)
        if row.received != row.size:
            raise InputError(
                f"{row.size - row.received} bytes are missing; send them from offset "
                f"{row.received}",
                field="offset",
            )
        content = self._read(upload_id, row.stored)
        if not hmac.compare_digest(hashlib.sha256(content).hexdigest(), row.sha256):
            self.drop(subject_id, upload_id)
            raise InputError(
                "the content does not match the SHA-256 announced; the upload was dropped",
                field="sha256",
            )
        item = self.sync.upload(
            subject_id,
            row.category,
            content,
            item_id=row.item_id,
            base_version=row.base_version,
        )
        self.drop(subject_id, upload_id)
        return item

    def drop(self, subject_id: str, upload_id: str) -> None:
        """Forget an upload and its part file."""
        with self.control.begin() as conn:
            conn.execute(
                delete(uploads).where(uploads.c.subject_id == subject_id, uploads.c.id == upload_id)
            )
        self._path(upload_id).unlink(missing_ok=True)

    def purge_expired(self) -> int:
        """Drop uploads not completed in time; returns how many."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(uploads.c.subject_id, uploads.c.id).where(
                    uploads.c.expires_at <= self.clock()
                )
            ).all()
        for row in rows:
            self.drop(row.subject_id, row.id)
        return len(rows)

    # -- parts -----------------------------------------------------------------------------

    def _row(self, subject_id: str, upload_id: str) -> Any:
        with self.control.connect() as conn:
            row = conn.execute(
                select(uploads).where(uploads.c.subject_id == subject_id, uploads.c.id == upload_id)
            ).first()
        if row is None or row.expires_at <= self.clock():
            raise NotFoundError("no such upload (or it expired); start again", field="upload_id")
        return row

    def _path(self, upload_id: str) -> Path:
        if not upload_id.startswith("cu_") or not upload_id[3:].isalnum():
            raise NotFoundError("no such upload", field="upload_id")
        return self.folder / f"{upload_id}.part"

    def _cipher(self, upload_id: str) -> AESGCM:
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"charter.cloud.upload/1:" + upload_id.encode(),
        ).derive(self.keyring.hmac_key)
        return AESGCM(key)

    def _read(self, upload_id: str, stored: int) -> bytes:
        cipher = self._cipher(upload_id)
        out = bytearray()
        with self._path(upload_id).open("rb") as part:
            data = part.read(stored)
        at = 0
        while at < len(data):
            (length,) = _HEADER.unpack_from(data, at)
            sealed = data[at + _HEADER.size : at + _HEADER.size + length]
            try:
                out += cipher.decrypt(sealed[:12], sealed[12:], _aad(upload_id, len(out)))
            except InvalidTag:
                raise IntegrityError("a stored chunk of this upload was altered") from None
            at += _HEADER.size + length
        return bytes(out)


def _aad(upload_id: str, offset: int) -> bytes:
    return f"{upload_id}:{offset}".encode()


def _erase_parts(path: Path, found: SubjectFiles) -> int:
    """Account erasure: remove a part file when its upload is the person's."""
    upload_id = path.name.removesuffix(".part")
    mine = found.conn.execute(
        select(uploads.c.id).where(
            uploads.c.subject_id == found.subject_id, uploads.c.id == upload_id
        )
    ).first()
    if mine is None:
        return 0
    path.unlink(missing_ok=True)
    return 1


register_file_writer(
    "cloud uploads",
    ("cloud/uploads/*.part",),
    holds="content of cloud uploads in progress (encrypted chunks)",
    erasure="a person's uploads in progress are removed with their account; others expire "
    "after 24 hours",
    on_erase=_erase_parts,
)
