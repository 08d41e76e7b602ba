"""
Reviews (promise ``get_apps.masked_reviewer_names``): a review's text, rating and the
author's nickname are a gate record of ``comments`` (the author's account); the table keeps
the app, the rating and the time for listing. A listing shows every review to everyone with
the nickname masked (:func:`mask_nickname`), except to its author, who sees theirs whole.

A page is one indexed query of the table (``ix_get_apps_reviews_app``: app, then the listing
order ``(created_at, id)``, keyset-paged, newest first), then its reviews' gate records by id
through the gate (:func:`~charter.gate.published.read_published`: each author decided on
their own, one query for the page's authors in a read-only snapshot, and one audit entry for
the page read, naming no one, group-committed); nicknames are masked as the rows come back.
The author's own list (:meth:`Reviews.mine`) is a read of their records, audited to them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, insert, or_, select

from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import Event
from charter.gate.grouped import GroupAudit
from charter.gate.many import read_many
from charter.gate.published import read_published
from charter.services.get_apps.apps import app
from charter.services.get_apps.tables import reviews
from charter.services.mirrors import drop_rows
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from charter.gate import Gate

SERVICE = "get_apps"
ACTOR = "service:get_apps"
PAGE = 20
MAX_TEXT = 2000
MAX_NICKNAME = 32


def mask_nickname(nickname: str) -> str:
    """A nickname as others see it: its first and last character, the rest as ``*``
    (``Priya`` → ``P***a``; one or two characters → all ``*``)."""
    if len(nickname) <= 2:
        return "*" * max(len(nickname), 1)
    return nickname[0] + "*" * (len(nickname) - 2) + nickname[-1]


@dataclass(frozen=True, slots=True)
class Review:
    """A review as one viewer sees it."""

    id: str
    app_id: str
    rating: int
    text: str
    nickname: str
    mine: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """One page of an app's reviews, and the cursor of the next (``None``: the last page)."""

    reviews: tuple[Review, ...]
    next_cursor: str | None


def public_review(row: Any, value: dict[str, Any], viewer: str | None) -> Review:
    """The review as ``viewer`` sees it: the nickname whole to its author, masked to anyone
    else (signed in or not)."""
    mine = viewer is not None and viewer == row.subject_id
    nickname = str(value.get("nickname", ""))
    return Review(
        row.id,
        row.app_id,
        row.rating,
        str(value.get("text", "")),
        nickname if mine else mask_nickname(nickname),
        mine,
        row.created_at,
    )


def _check(rating: int, text: str, nickname: str) -> None:
    if not 1 <= rating <= 5:
        raise InputError("rating is a whole number from 1 to 5", field="rating")
    if not text.strip() or len(text) > MAX_TEXT:
        raise InputError(f"text has 1 to {MAX_TEXT} characters", field="text")
    if not nickname.strip() or len(nickname) > MAX_NICKNAME or any(ord(c) < 32 for c in nickname):
        raise InputError(f"nickname has 1 to {MAX_NICKNAME} printable characters", field="nickname")


def _cursor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    at, _, rid = text.partition(".")
    if not at.isdigit() or not rid.startswith("rv_") or len(rid) != 35:
        raise InputError("cursor is the next_cursor of the previous page", field="cursor")
    return int(at), rid


class Reviews:
    """Writing, listing and deleting reviews."""

    def __init__(self, gate: Gate, control: Engine) -> None:
        self.gate = gate
        self.control = control
        self.audit = GroupAudit(gate)
        """Group commit of the public pages' audit entries."""

    def write(
        self, subject_id: str, app_id: str, *, rating: int, text: str, nickname: str
    ) -> Review:
        """
        Publish a review of an app.

        Raises:
            InputError: a rating outside 1..5, empty or long text or nickname.
            RefusedError: the gate's reason (e.g. no authorization).
        """
        found = app(app_id)
        _check(rating, text, nickname)
        value = {"app": found.id, "rating": rating, "text": text, "nickname": nickname}
        result = self.gate.collect(
            [Event(subject_id, SERVICE, "comments", Purpose.APP_FUNCTIONALITY, value)],
            actor=ACTOR,
        ).items[0]
        if not result.accepted or result.record_id is None:
            raise RefusedError(result.message, code=result.reason)
        rid = "rv_" + secrets.token_hex(16)
        now = self.gate.clock()
        with self.control.begin() as conn:
            conn.execute(
                insert(reviews).values(
                    subject_id=subject_id,
                    id=rid,
                    app_id=found.id,
                    rating=rating,
                    record_id=result.record_id,
                    created_at=now,
                )
            )
        return Review(rid, found.id, rating, text, nickname, True, now)

    def page(
        self, app_id: str, *, viewer: str | None, cursor: str | None = None, limit: int = PAGE
    ) -> ReviewPage:
        """One page of an app's reviews, newest first, as ``viewer`` sees them."""
        found = app(app_id)
        after = _cursor(cursor)
        r = reviews.c
        query = select(reviews).where(r.app_id == found.id)
        if after is not None:
            query = query.where(
                or_(r.created_at < after[0], and_(r.created_at == after[0], r.id < after[1]))
            )
        query = query.order_by(r.created_at.desc(), r.id.desc()).limit(limit + 1)
        with self.control.connect() as conn:
            rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        values = self._values(rows, public=True)
        shown = tuple(
            public_review(row, values[row.record_id], viewer)
            for row in rows
            if row.record_id in values
        )
        last = rows[-1] if rows and more else None
        return ReviewPage(shown, f"{last.created_at}.{last.id}" if last is not None else None)

    def _values(self, rows: Sequence[Any], *, public: bool = False) -> dict[str, dict[str, Any]]:
        """The gate records of the rows: a public page's read (one audit entry for the page),
        or an author's own (their read). Rows of a readable author whose record is gone
        (erased, withdrawn and re-authorized, expired) are dropped."""
        by_author: dict[str, set[str]] = {}
        for row in rows:
            by_author.setdefault(row.subject_id, set()).add(row.record_id)
        if public:
            found = read_published(
                self.gate,
                self.audit,
                by_author,
                service=SERVICE,
                purpose=Purpose.APP_FUNCTIONALITY,
                data_type="comments",
                actor=ACTOR,
            )
        else:
            found = read_many(
                self.gate,
                by_author,
                service=SERVICE,
                purpose=Purpose.APP_FUNCTIONALITY,
                data_type="comments",
                record_ids=[row.record_id for row in rows],
                actor=ACTOR,
            )
        out: dict[str, dict[str, Any]] = {}
        for author, records in found.items():  # authors who withdrew or left are not shown
            wanted = by_author[author]
            for rec in records:
                if rec.id in wanted and isinstance(rec.value, dict):
                    out[rec.id] = rec.value
            gone = [rid for rid in wanted if rid not in out]
            if gone:
                drop_rows(self.control, reviews, author, gone)
        return out

    def mine(self, subject_id: str) -> list[Review]:
        """The author's own reviews, newest first, with their nickname whole."""
        r = reviews.c
        with self.control.connect() as conn:
            rows = conn.execute(
                select(reviews)
                .where(r.subject_id == subject_id)
                .order_by(r.created_at.desc(), r.id.desc())
            ).all()
        values = self._values(rows)
        return [
            public_review(row, values[row.record_id], subject_id)
            for row in rows
            if row.record_id in values
        ]

    def delete(self, subject_id: str, review_id: str) -> None:
        """
        Delete one's own review (its gate record goes).

        Raises:
            NotFoundError: no such review of this author.
        """
        r = reviews.c
        with self.control.begin() as conn:
            row = conn.execute(
                select(r.record_id).where(r.subject_id == subject_id, r.id == review_id)
            ).first()
            if row is None:
                raise NotFoundError("no such review of yours", field="review_id")
            conn.execute(delete(reviews).where(r.subject_id == subject_id, r.id == review_id))
        self.gate.delete_records(
            subject_id, [row.record_id], service=SERVICE, actor=ACTOR, why="review_deleted"
        )
