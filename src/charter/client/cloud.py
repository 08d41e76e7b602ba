"""The cloud sync API as a device uses it: upload, changes since a token, download, delete,
restore, resumable uploads of large files (chunks with their digests, resumed from where
the server says), shared links."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from charter.client.http import ApiError, Transport

LARGE = 8 << 20
"""Content above this goes through a resumable upload."""


@dataclass(frozen=True, slots=True)
class Item:
    """An item as the server describes it."""

    id: str
    category: str
    version: int
    state: str
    size: int
    change: int
    updated_at: int
    purge_at: int | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Item:
        """From the API's JSON."""
        return cls(
            data["id"],
            data["category"],
            data["version"],
            data["state"],
            data["size"],
            data["change"],
            data["updated_at"],
            data.get("purge_at"),
        )


Change = Item


@dataclass(frozen=True, slots=True)
class Changes:
    """A page of changes and the token to ask from next."""

    changes: list[Change]
    token: str
    more: bool


class ConflictError(Exception):
    """An update lost to a newer version: both versions, to merge and send again."""

    def __init__(
        self, current: Item, current_content: bytes | None, attempted_base_version: int
    ) -> None:
        super().__init__(f"item {current.id} is at version {current.version}")
        self.current = current
        self.current_content = current_content
        self.attempted_base_version = attempted_base_version


class CloudClient:
    """A device's view of its person's cloud."""

    def __init__(self, base_url: str, token: str, *, transport: Transport | None = None) -> None:
        self.transport = transport or Transport(base_url, token)

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- items -----------------------------------------------------------------------------

    def upload(self, category: str, content: bytes) -> Item:
        """A new item (large content goes through a resumable upload)."""
        if len(content) > LARGE:
            return self.upload_stream(category, _BytesReader(content), len(content))
        answer = self.transport.request("POST", f"/v1/cloud/{category}/items", content=content)
        return Item.of(answer.json())

    def upload_batch(self, category: str, contents: list[bytes]) -> list[Item]:
        """Up to 1,000 new items at once (all or nothing)."""
        answer = self.transport.request(
            "POST",
            f"/v1/cloud/{category}/batch",
            json={"items": [base64.b64encode(c).decode() for c in contents]},
        )
        return [Item.of(i) for i in answer.json()]

    def update(self, item: Item, content: bytes) -> Item:
        """
        Replace an item's content, based on the version given.

        Raises:
            ConflictError: the item moved on meanwhile (both versions inside).
        """
        try:
            answer = self.transport.request(
                "PUT",
                f"/v1/cloud/items/{item.id}",
                content=content,
                headers={"If-Match": f'"{item.version}"'},
            )
        except ApiError as error:
            raise _conflict(error) from None
        return Item.of(answer.json())

    def download(self, item_id: str) -> bytes:
        """An item's content."""
        return self.transport.request("GET", f"/v1/cloud/items/{item_id}").content

    def delete(self, item: Item) -> Item:
        """Delete an item (to the trash, or at once), if it is still at the version given."""
        try:
            answer = self.transport.request(
                "DELETE", f"/v1/cloud/items/{item.id}", headers={"If-Match": f'"{item.version}"'}
            )
        except ApiError as error:
            raise _conflict(error) from None
        return Item.of(answer.json())

    def restore(self, item_id: str) -> Item:
        """Bring a trashed item back."""
        return Item.of(self.transport.request("POST", f"/v1/cloud/items/{item_id}/restore").json())

    def changes(self, since: str = "0", *, limit: int = 500) -> Changes:
        """One page of changes after a token."""
        data = self.transport.request(
            "GET", "/v1/cloud/changes", params={"since": since, "limit": limit}
        ).json()
        return Changes([Item.of(c) for c in data["changes"]], data["token"], data["more"])

    def all_changes(self, since: str = "0") -> Iterator[Change]:
        """Every change after a token, page by page; ``last_token`` holds where it ended."""
        token, more = since, True
        while more:
            page = self.changes(token)
            yield from page.changes
            token, more = page.token, page.more
        self.last_token = token

    # -- large files -----------------------------------------------------------------------

    def upload_file(self, category: str, path: Path) -> Item:
        """A file as a new item, through a resumable upload."""
        with path.open("rb") as f:
            return self.upload_stream(category, f, path.stat().st_size)

    def upload_stream(
        self,
        category: str,
        stream: BinaryIO | _BytesReader,
        size: int,
        *,
        upload_id: str | None = None,
    ) -> Item:
        """Upload ``size`` bytes from a seekable stream in chunks, each with its digest;
        with ``upload_id``, resume that upload from where the server has it."""
        if upload_id is None:
            digest = _sha256_of(stream)
            begun = self.transport.request(
                "POST",
                f"/v1/cloud/{category}/uploads",
                json={"size": size, "sha256": digest},
            ).json()
            upload_id, chunk_bytes, at = begun["id"], begun["chunk_bytes"], begun["received"]
        else:
            state = self.transport.request("GET", f"/v1/cloud/uploads/{upload_id}").json()
            chunk_bytes, at = state["chunk_bytes"], state["received"]
        self.last_upload = upload_id
        while at < size:
            stream.seek(at)
            chunk = stream.read(min(chunk_bytes, size - at))
            answer = self.transport.request(
                "PUT",
                f"/v1/cloud/uploads/{upload_id}",
                params={"offset": at},
                content=chunk,
                headers={"Content-Digest": _content_digest(chunk)},
            )
            at = answer.json()["received"]
        done = self.transport.request("POST", f"/v1/cloud/uploads/{upload_id}/complete")
        return Item.of(done.json())

    # -- sharing ---------------------------------------------------------------------------

    def share(self, item_id: str, *, days: int = 7) -> str:
        """A link to a gallery photo, served without its location and metadata."""
        answer = self.transport.request(
            "POST", f"/v1/cloud/items/{item_id}/links", json={"days": days}
        )
        return str(answer.json()["url"])


class _BytesReader:
    """Bytes as a seekable stream."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def seek(self, at: int) -> None:
        self.at = at

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.at + n
        out = self.data[self.at : end]
        self.at += len(out)
        return out


def _sha256_of(stream: BinaryIO | _BytesReader) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while True:
        block = stream.read(1 << 20)
        if not block:
            break
        digest.update(block)
    return digest.hexdigest()


def _content_digest(chunk: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(chunk).digest()).decode() + ":"


def _conflict(error: ApiError) -> Exception:
    if error.status != 409 or not isinstance(error.body, dict) or "current" not in error.body:
        return error
    body = error.body
    content = body.get("current_content_b64")
    return ConflictError(
        Item.of(body["current"]),
        base64.b64decode(content) if content is not None else None,
        int(body.get("attempted_base_version") or 0),
    )
