"""
Second factors at sign-in, step-up and switch-off: checking a TOTP code (a step accepted
once is never accepted again) and spending a recovery code (each works once).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from charter.services.account import keys, totp
from charter.services.account.context import MICROS, AccountContext
from charter.services.account.tables import secrets_


def check_totp(
    context: AccountContext, conn: Connection, subject_id: str, code: str, now: int
) -> bool:
    """Check and consume a TOTP code of the account's confirmed seed, in ``conn``."""
    row = conn.execute(
        select(secrets_).where(
            secrets_.c.subject_id == subject_id,
            secrets_.c.kind == "totp",
            secrets_.c.confirmed_at.is_not(None),
        )
    ).first()
    if row is None:
        return False
    seed = context.cipher.decrypt(row.secret, subject_id=subject_id, credential_id=row.id).decode()
    step = totp.matching_step(seed, str(code), now / MICROS)
    if step is None:
        return False
    return (
        conn.execute(
            update(secrets_)
            .where(
                secrets_.c.subject_id == subject_id,
                secrets_.c.id == row.id,
                secrets_.c.last_step < step,
            )
            .values(last_step=step)
        ).rowcount
        or 0
    ) == 1


def spend_recovery_code(
    context: AccountContext, conn: Connection, subject_id: str, code: str, now: int
) -> bool:
    """Mark one unused recovery code of the account used, in ``conn``; False when none matched."""
    digest = keys.token_hash(context.keyring, "rc:" + totp.canonical_recovery_code(code)).encode()
    return (
        conn.execute(
            update(secrets_)
            .where(
                secrets_.c.subject_id == subject_id,
                secrets_.c.kind == "recovery",
                secrets_.c.secret == digest,
                secrets_.c.used_at.is_(None),
            )
            .values(used_at=now)
        ).rowcount
        or 0
    ) == 1
