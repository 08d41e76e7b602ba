"""
Shared photo links under advanced protection: the server cannot open the photo, so the
device makes the shared copy. It strips the photo's location and metadata
(:mod:`charter.photos`), encrypts the stripped copy under a fresh **photo key** and uploads
only the ciphertext (``SP 01`` | nonce (12) | AES-256-GCM of media type length (1) | media
type | image, associated data ``SP 01``). The link carries the photo key in its URL
fragment (``#k=…``), which a browser never sends to a server; the link's page
(``/s/p/{token}``) decrypts it in the browser with WebCrypto (``static/shared-photo.js``).

The sealed copy is a gate record of the person (encrypted at rest again, erased with the
account). Expiry, revocation (which also destroys the copy), the photo leaving the gallery
and the view count in the person's activity hold as for standard links.

The copy counts against the person's quota (:meth:`SealedLinks.used`) from the moment the
link is made until it ends: expired, revoked, or its photo destroyed. A link whose copy
would not fit is refused with the figures, as an upload is; the purge then destroys the
copies of ended links.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update

from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import Event
from charter.services.cloud.categories import category
from charter.services.cloud.links import DAY, LINK_PREFIX, MAX_DAYS, Link, link_of, token_hash
from charter.services.cloud.tables import items, links
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.services.cloud.sync import CloudSync

SEALED_PHOTO = b"SP\x01"
MIN_SEALED = len(SEALED_PHOTO) + 12 + 1 + 16
MAX_SEALED = 8 << 20

_USED = (
    select(func.coalesce(func.sum(links.c.size), 0))
    .select_from(links)
    .join(items, (items.c.subject_id == links.c.subject_id) & (items.c.id == links.c.item_id))
    .where(
        links.c.subject_id == bindparam("subject"),
        links.c.record_id.is_not(None),
        links.c.revoked_at.is_(None),
        links.c.expires_at > bindparam("now"),
        items.c.state != "gone",
    )
)
"""The bytes behind a person's links that have not ended (built once: every upload asks)."""


class SealedLinks:
    """Links to photos of a protected gallery, sealed on the device."""

    def __init__(self, sync: CloudSync) -> None:
        self.sync = sync
        self.clock = sync.clock

    @property
    def control(self) -> Any:
        return self.sync.control

    def share(self, subject_id: str, item_id: str, sealed: bytes, *, days: int = 7) -> Link:
        """
        Make a link to the sealed, stripped copy of a protected gallery photo.

        Raises:
            InputError: ``days`` out of range, or not a sealed copy (format 1).
            NotFoundError: no such live gallery item.
            RefusedError: the gallery is not under advanced protection (share it as a
                standard link: the server strips it) (``not_protected``), or the copy would
                not fit the plan's quota (``quota_exceeded``, with the figures).
        """
        if not 1 <= days <= MAX_DAYS:
            raise InputError(f"a link lasts 1 to {MAX_DAYS} days", field="days")
        if not sealed.startswith(SEALED_PHOTO) or not MIN_SEALED <= len(sealed) <= MAX_SEALED:
            raise InputError(
                "the body is the photo stripped and sealed on the device (format SP 01, at "
                "most 8 MiB)",
                field="body",
            )
        item = self.sync.item(subject_id, item_id)
        if item.category != "gallery" or item.state != "live":
            raise NotFoundError("no such photo in the gallery", field="item_id")
        if "gallery" not in self.sync.protected_categories(subject_id):
            raise RefusedError(
                "the gallery is not under advanced protection: share with POST "
                f"/v1/cloud/items/{item_id}/links and the server strips the photo",
                code="not_protected",
            )
        self.sync.check_quota(subject_id, len(sealed))
        kind = category("gallery")
        result = self.sync.gate.collect(
            [Event(subject_id, "cloud", kind.data_type, Purpose.APP_FUNCTIONALITY, blob=sealed)],
            actor="service:cloud",
        )
        outcome = result.items[0]
        if not outcome.accepted or not outcome.record_id:
            raise RefusedError(outcome.message, code=outcome.reason)
        token = LINK_PREFIX + secrets.token_urlsafe(32)
        link_id = "cl_" + secrets.token_hex(16)
        now = self.clock()
        with self.control.begin() as conn:
            conn.execute(
                insert(links).values(
                    subject_id=subject_id,
                    id=link_id,
                    token_hash=token_hash(self.sync.gate.keyring.hmac_key, token),
                    item_id=item_id,
                    views=0,
                    created_at=now,
                    expires_at=now + days * DAY,
                    revoked_at=None,
                    record_id=outcome.record_id,
                    size=len(sealed),
                )
            )
            row = conn.execute(
                select(links).where(links.c.subject_id == subject_id, links.c.id == link_id)
            ).one()
        return link_of(row, token)

    def check(self, token: str) -> None:
        """
        Raises:
            NotFoundError: no such sealed link, or it has ended (nothing is counted).
        """
        self._find(token)

    def open(self, token: str) -> bytes:
        """
        The sealed copy behind a link (ciphertext only); the view is counted on the link
        and in the owner's activity.

        Raises:
            NotFoundError: unknown, expired or revoked link, or the photo left the gallery.
        """
        row = self._find(token)
        _, sealed = self._read(row)
        gate = self.sync.gate
        with self.control.begin() as conn:
            conn.execute(
                update(links)
                .where(links.c.subject_id == row.subject_id, links.c.id == row.id)
                .values(views=links.c.views + 1)
            )
        with gate.stores.region(gate.subject(row.subject_id).region).begin() as conn:
            gate.journal.record(
                conn,
                "link:shared",
                "shared_link_view",
                row.subject_id,
                {"service": "cloud", "sealed": True},
            )
        return sealed

    def used(self, subject_id: str) -> int:
        """Bytes of the person's sealed copies behind links that have not ended (not
        expired, not revoked, their photo not destroyed): what they add to the quota."""
        with self.control.connect().execution_options(readonly=True) as conn:
            return self.used_in(conn, subject_id)

    def used_in(self, conn: Any, subject_id: str) -> int:
        """:meth:`used`, read in ``conn``."""
        total = conn.execute(_USED, {"subject": subject_id, "now": self.clock()}).scalar_one()
        return int(total)

    def purge_ended(self, *, batch: int = 500) -> int:
        """
        Destroy the sealed copies behind links that have expired or were revoked (revoking
        destroys its copy at once; this also settles one a crash left behind), or whose
        photo was destroyed: each copy is deleted through the gate (audited as
        ``link_expired``), then the link keeps no record. Idempotent and resumable; returns
        how many copies went.
        """
        now = self.clock()
        done = 0
        while True:
            with self.control.connect() as conn:
                ended = conn.execute(
                    select(links.c.subject_id, links.c.id, links.c.record_id)
                    .join(
                        items,
                        (items.c.subject_id == links.c.subject_id)
                        & (items.c.id == links.c.item_id),
                    )
                    .where(
                        links.c.record_id.is_not(None),
                        (links.c.expires_at <= now)
                        | links.c.revoked_at.is_not(None)
                        | (items.c.state == "gone"),
                    )
                    .limit(batch)
                ).all()
            if not ended:
                return done
            for row in ended:
                self.sync.forget(row.subject_id, [row.record_id], why="link_expired")
                with self.control.begin() as conn:
                    conn.execute(
                        update(links)
                        .where(links.c.subject_id == row.subject_id, links.c.id == row.id)
                        .values(record_id=None)
                    )
                done += 1

    def _read(self, row: Any) -> tuple[Any, bytes]:
        data = self.sync.gate.read_blob(
            row.subject_id,
            row.record_id,
            service="cloud",
            purpose=Purpose.APP_FUNCTIONALITY,
            actor="service:cloud",
        )
        return row, data

    def _find(self, token: str) -> Any:
        ended = NotFoundError("this link does not exist or has ended", field="token")
        if not token.startswith(LINK_PREFIX) or len(token) > 80:
            raise ended
        with self.control.connect() as conn:
            row = conn.execute(
                select(links, items.c.state)
                .join(
                    items,
                    (items.c.subject_id == links.c.subject_id) & (items.c.id == links.c.item_id),
                )
                .where(links.c.token_hash == token_hash(self.sync.gate.keyring.hmac_key, token))
            ).first()
        if (
            row is None
            or row.record_id is None
            or row.revoked_at is not None
            or row.expires_at <= self.clock()
            or row.state != "live"
        ):
            raise ended
        return row
