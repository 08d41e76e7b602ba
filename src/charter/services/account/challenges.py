"""
One-time challenges: verification codes (registration, step-up, reset, unfreeze) and
approval prompts answered from another signed-in device.

A code is 6 random digits, stored as a keyed hash bound to its challenge, valid for 10
minutes and for 5 attempts; consuming a challenge is atomic, so of two racing requests with
the right code exactly one succeeds.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from charter.crypto import Keyring
from charter.errors import AuthError
from charter.services.account import keys
from charter.services.account.tables import challenges

MICROS = 1_000_000
CODE_TTL = 600
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge as loaded (its code never)."""

    id: str
    subject_id: str | None
    purpose: str
    state: str
    attempts: int
    context: dict[str, Any]
    expires_at: int


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**6):06d}"


def create(
    conn: Connection,
    keyring: Keyring,
    *,
    subject_id: str | None,
    purpose: str,
    now: int,
    context: dict[str, Any] | None = None,
    with_code: bool = True,
    ttl: int = CODE_TTL,
    challenge_id: str | None = None,
) -> tuple[str, str | None]:
    """Start a challenge; returns its id and its code (``None`` for approval-only)."""
    challenge_id = challenge_id or keys.new_id("ch_")
    code = new_code() if with_code else None
    conn.execute(
        insert(challenges).values(
            id=challenge_id,
            subject_id=subject_id,
            purpose=purpose,
            code_hash=keys.code_hash(keyring, challenge_id, code) if code else None,
            attempts=0,
            state="pending",
            context=json.dumps(context or {}, sort_keys=True),
            created_at=now,
            expires_at=now + ttl * MICROS,
        )
    )
    return challenge_id, code


def load(conn: Connection, challenge_id: str, *, purpose: str, now: int) -> Challenge:
    """
    A live challenge of ``purpose``.

    Raises:
        AuthError: unknown, expired, finished or out of attempts (one message for all).
    """
    row = conn.execute(select(challenges).where(challenges.c.id == str(challenge_id)[:40])).first()
    if (
        row is None
        or row.purpose != purpose
        or row.expires_at <= now
        or row.state in ("done", "denied")
        or row.attempts >= MAX_ATTEMPTS
    ):
        raise AuthError(
            "the verification has expired or is unknown; start again", code="invalid_challenge"
        )
    return Challenge(
        row.id,
        row.subject_id,
        row.purpose,
        row.state,
        row.attempts,
        json.loads(row.context),
        row.expires_at,
    )


def code_matches(
    keyring: Keyring,
    conn: Connection,
    challenge: Challenge,
    code: str | None,
    *,
    anonymous: bool = False,
) -> bool:
    """Check a code (counting the attempt). Challenges without a subject never match unless
    ``anonymous`` (registrations, whose account is created once the code is right)."""
    conn.execute(
        update(challenges)
        .where(challenges.c.id == challenge.id)
        .values(attempts=challenges.c.attempts + 1)
    )
    if not code or (challenge.subject_id is None and not anonymous):
        return False
    stored = conn.execute(
        select(challenges.c.code_hash).where(challenges.c.id == challenge.id)
    ).scalar()
    return bool(stored) and hmac.compare_digest(
        str(stored), keys.code_hash(keyring, challenge.id, str(code)[:16])
    )


def finish(conn: Connection, challenge_id: str, *, clear_context: bool = False) -> bool:
    """Consume a challenge atomically (``clear_context``: and forget its context); False when
    another request already did."""
    values: dict[str, Any] = {"state": "done"}
    if clear_context:
        values["context"] = "{}"
    return (
        conn.execute(
            update(challenges)
            .where(challenges.c.id == challenge_id, challenges.c.state.in_(("pending", "approved")))
            .values(**values)
        ).rowcount
        or 0
    ) == 1


def decide(conn: Connection, challenge_id: str, subject_id: str, approve: bool, now: int) -> bool:
    """Answer a pending approval of the subject; False when there is none."""
    return (
        conn.execute(
            update(challenges)
            .where(
                challenges.c.id == challenge_id,
                challenges.c.subject_id == subject_id,
                challenges.c.purpose == "login",
                challenges.c.state == "pending",
                challenges.c.expires_at > now,
            )
            .values(state="approved" if approve else "denied")
        ).rowcount
        or 0
    ) == 1


def pending_approvals(conn: Connection, subject_id: str, now: int) -> list[dict[str, Any]]:
    """Sign-ins of the subject waiting for an approval from another device."""
    rows = conn.execute(
        select(challenges).where(
            challenges.c.subject_id == subject_id,
            challenges.c.purpose == "login",
            challenges.c.state == "pending",
            challenges.c.expires_at > now,
        )
    ).all()
    out = []
    for r in rows:
        ctx = json.loads(r.context)
        if ctx.get("approval"):
            out.append(
                {
                    "id": r.id,
                    "created_at": r.created_at,
                    "expires_at": r.expires_at,
                    "reasons": ctx.get("reasons", []),
                }
            )
    return out
