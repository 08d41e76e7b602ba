"""The request and response bodies of the cloud API (:mod:`charter.api.routers.cloud`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

Base64Text = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        max_length=1_400_000,
    ),
]


class BatchIn(BaseModel):
    """Many new items of one category (a device's first sync)."""

    model_config = ConfigDict(extra="forbid")

    items: list[Base64Text] = Field(
        min_length=1, max_length=1000, description="Each item's content, base64."
    )


class SyncIn(BaseModel):
    """A category's sync switch."""

    model_config = ConfigDict(extra="forbid")

    sync: StrictBool


class CategoryOut(BaseModel):
    """A category and its sync switch."""

    category: str
    sync: bool
    deletes_when_off: bool = Field(description="Switching off deletes its cloud copy at once.")
    deleted: int = Field(default=0, description="Items deleted by this change.")


class UploadIn(BaseModel):
    """A resumable upload to start."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1, description="Total bytes of the content.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the whole content.")
    item_id: str | None = Field(
        default=None, pattern=r"^ci_[0-9a-f]{32}$", description="The item it replaces."
    )
    base_version: int | None = Field(default=None, ge=1, description="Its version then.")


class UploadOut(BaseModel):
    """Where a resumable upload stands."""

    id: str
    category: str
    size: int
    received: int = Field(description="Send the next chunk from here.")
    expires_at: int
    chunk_bytes: int = Field(description="The largest chunk accepted.")


class LinkIn(BaseModel):
    """A link to make."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=7, ge=1, le=30, description="How long the link works.")


class LinkOut(BaseModel):
    """A shared link; ``url`` only when it was just made (the token is shown once)."""

    id: str
    item_id: str
    views: int
    created_at: int
    expires_at: int
    revoked_at: int | None
    url: str | None


class ItemOut(BaseModel):
    """An item as a device sees it."""

    id: str
    category: str
    version: int = Field(description="1 on creation, +1 on every change.")
    state: str = Field(description="live | trashed | gone.")
    size: int
    change: int = Field(description="The change number of its last change.")
    created_at: int
    updated_at: int
    purge_at: int | None = Field(description="When a trashed item is destroyed.")


class ChangesOut(BaseModel):
    """Changes since a token."""

    changes: list[ItemOut]
    token: str = Field(description="Ask from here next time.")
    more: bool = Field(description="More changes are waiting: ask again with the token.")


class UsageOut(BaseModel):
    """A person's plan and storage."""

    plan: str
    quota_bytes: int
    used_bytes: int = Field(
        description="Live and trashed items, and the sealed copies behind shared links of "
        "protected photos that have not ended."
    )
    trash_days: int
    shared_copies_bytes: int = Field(
        0, description="Of ``used_bytes``: the sealed copies behind shared links."
    )


class ConflictOut(BaseModel):
    """409: both versions of a conflicting update."""

    error: dict[str, str | None]
    current: ItemOut
    current_content_b64: str | None = Field(description="Inline up to 1 MiB, else null.")
    attempted_base_version: int
    attempted_content_b64: str | None
