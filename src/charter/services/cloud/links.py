"""
Shared photo links: a gallery item shared by a link that anyone holding it can open, served
with its location and every other metadata block removed (:mod:`charter.photos`, lossless),
expiring after the days chosen, revocable at once, and counted: each view is in the owner's
activity (the audit log) and on the link.

The link's token (256 random bits) is shown once; the server keeps a keyed hash of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from charter.crypto import keyed_hash
from charter.errors import InputError, NotFoundError, RefusedError
from charter.photos import PhotoFormatError, detect_format, strip_bytes
from charter.services.cloud.tables import items, links

if TYPE_CHECKING:
    from charter.services.cloud.sync import CloudSync

MICROS = 1_000_000
DAY = 86_400 * MICROS
MAX_DAYS = 30
LINK_PREFIX = "sl_"


@dataclass(frozen=True, slots=True)
class Link:
    """A shared link (its token only when just made)."""

    id: str
    item_id: str
    views: int
    created_at: int
    expires_at: int
    revoked_at: int | None
    token: str | None = None


def link_of(row: Any, token: str | None = None) -> Link:
    """A :class:`Link` from a ``cloud_links`` row."""
    return Link(
        row.id, row.item_id, row.views, row.created_at, row.expires_at, row.revoked_at, token
    )


class SharedLinks:
    """Shared photo links of one deployment."""

    def __init__(self, sync: CloudSync) -> None:
        self.sync = sync
        self.keyring = sync.gate.keyring
        self.clock = sync.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    def share(self, subject_id: str, item_id: str, *, days: int = 7) -> Link:
        """
        Make a link to a gallery photo.

        Raises:
            NotFoundError: no such live item.
            InputError: not a gallery photo Charter can strip, or ``days`` out of range.
        """
        if not 1 <= days <= MAX_DAYS:
            raise InputError(f"a link lasts 1 to {MAX_DAYS} days", field="days")
        item, content = self.sync.content(subject_id, item_id)
        if item.category != "gallery" or item.state != "live":
            raise InputError("only photos of the gallery can be shared by link", field="item_id")
        if item.category in self.sync.protected_categories(subject_id):
            raise RefusedError(
                "the gallery is under advanced protection: the server cannot open its photos, "
                "so it cannot share them by link; share the photo from your device (it strips and "
                "seals the copy: POST /v1/cloud/items/{id}/sealed-links)",
                code="advanced_protection",
            )
        if detect_format(content[:64]) is None:
            raise InputError(
                "this item is not a photo Charter can share without its metadata "
                "(JPEG, PNG, WebP or HEIF)",
                field="item_id",
            )
        token = LINK_PREFIX + secrets.token_urlsafe(32)
        link_id = "cl_" + secrets.token_hex(16)
        now = self.clock()
        with self.control.begin() as conn:
            conn.execute(
                insert(links).values(
                    subject_id=subject_id,
                    id=link_id,
                    token_hash=token_hash(self.keyring.hmac_key, token),
                    item_id=item_id,
                    views=0,
                    created_at=now,
                    expires_at=now + days * DAY,
                    revoked_at=None,
                    record_id=None,
                )
            )
            row = conn.execute(
                select(links).where(links.c.subject_id == subject_id, links.c.id == link_id)
            ).one()
        return link_of(row, token)

    def list(self, subject_id: str) -> list[Link]:
        """The person's links, newest first."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(links)
                .where(links.c.subject_id == subject_id)
                .order_by(links.c.created_at.desc(), links.c.id)
            ).all()
        return [link_of(r) for r in rows]

    def revoke(self, subject_id: str, link_id: str) -> Link:
        """
        End a link now.

        Raises:
            NotFoundError: no such link of this person.
        """
        with self.control.begin() as conn:
            done = conn.execute(
                update(links)
                .where(
                    links.c.subject_id == subject_id,
                    links.c.id == link_id,
                    links.c.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock())
            ).rowcount
            row = conn.execute(
                select(links).where(links.c.subject_id == subject_id, links.c.id == link_id)
            ).first()
        if row is None or not (done or row.revoked_at):
            raise NotFoundError("no such link", field="link_id")
        if done and row.record_id is not None:  # a sealed copy (advanced protection) goes
            self.sync.forget(subject_id, [row.record_id], why="link_revoked")
        return link_of(row)

    def open(self, token: str) -> tuple[bytes, str]:
        """
        The photo behind a link, stripped, and its media type; the view is counted.

        Raises:
            NotFoundError: unknown, expired or revoked link, or the photo is gone.
        """
        if not token.startswith(LINK_PREFIX) or len(token) > 80:
            raise NotFoundError("this link does not exist or has ended", field="token")
        now = self.clock()
        with self.control.connect() as conn:
            row = conn.execute(
                select(links, items.c.state)
                .join(
                    items,
                    (items.c.subject_id == links.c.subject_id) & (items.c.id == links.c.item_id),
                )
                .where(links.c.token_hash == token_hash(self.keyring.hmac_key, token))
            ).first()
        if (
            row is None
            or row.record_id is not None
            or row.revoked_at is not None
            or row.expires_at <= now
            or row.state != "live"
        ):
            raise NotFoundError("this link does not exist or has ended", field="token")
        _, content = self.sync.content(row.subject_id, row.item_id)
        try:
            stripped, report = strip_bytes(content)
        except PhotoFormatError:
            raise NotFoundError("this link does not exist or has ended", field="token") from None
        gate = self.sync.gate
        with self.control.begin() as conn:
            conn.execute(
                update(links)
                .where(links.c.subject_id == row.subject_id, links.c.id == row.id)
                .values(views=links.c.views + 1)
            )
        region = gate.subject(row.subject_id).region
        with gate.stores.region(region).begin() as conn:
            gate.journal.record(
                conn, "link:shared", "shared_link_view", row.subject_id, {"service": "cloud"}
            )
        return stripped, report.media_type


def token_hash(key: bytes, token: str) -> str:
    """The keyed hash a link's token is kept as."""
    return keyed_hash(key, token.encode("utf-8", "replace"), context="cloud.link").hex()
