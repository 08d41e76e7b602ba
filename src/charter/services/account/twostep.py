"""
2-step verification: enrolling a TOTP seed (confirmed by a first code, which also issues
recovery codes), switching it off, and checking a code.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from charter.errors import AuthError
from charter.services.account import keys, totp
from charter.services.account.common import require_fresh
from charter.services.account.context import MICROS, AccountContext
from charter.services.account.factors import check_totp
from charter.services.account.sessions import SessionInfo
from charter.services.account.tables import accounts, secrets_


class TwoStep:
    """Switching 2-step verification on and off, and checking TOTP codes."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

    def begin_totp(self, session: SessionInfo) -> tuple[str, str]:
        """
        Start 2-step verification: a new seed (shown once) and its ``otpauth://`` URI.

        Raises:
            StepUpRequiredError: the session is not fresh.
        """
        ctx = self.context
        require_fresh(ctx, session)
        seed = totp.new_seed()
        secret_id = keys.new_id("sk_")
        now = ctx.clock()
        with ctx.control.begin() as conn:
            conn.execute(
                secrets_.delete().where(
                    secrets_.c.subject_id == session.subject_id,
                    secrets_.c.kind == "totp",
                    secrets_.c.confirmed_at.is_(None),
                )
            )
            conn.execute(
                insert(secrets_).values(
                    id=secret_id,
                    subject_id=session.subject_id,
                    kind="totp",
                    secret=ctx.cipher.encrypt(
                        seed.encode(), subject_id=session.subject_id, credential_id=secret_id
                    ),
                    last_step=0,
                    created_at=now,
                )
            )
        return seed, totp.provisioning_uri(seed, session.subject_id)

    def confirm_totp(self, session: SessionInfo, code: str) -> list[str]:
        """
        Switch 2-step verification on with a first code; returns fresh recovery codes.

        Raises:
            AuthError: wrong code, or no seed was started.
        """
        ctx = self.context
        now = ctx.clock()
        subject_id = session.subject_id
        codes = totp.new_recovery_codes()
        ok = False
        with ctx.control.begin() as conn:
            row = conn.execute(
                select(secrets_).where(
                    secrets_.c.subject_id == subject_id,
                    secrets_.c.kind == "totp",
                    secrets_.c.confirmed_at.is_(None),
                )
            ).first()
            if row is not None:
                seed = ctx.cipher.decrypt(
                    row.secret, subject_id=subject_id, credential_id=row.id
                ).decode()
                step = totp.matching_step(seed, code, now / MICROS)
                if step is not None:
                    ok = True
                    conn.execute(
                        secrets_.delete().where(
                            secrets_.c.subject_id == subject_id, secrets_.c.id != row.id
                        )
                    )
                    conn.execute(
                        update(secrets_)
                        .where(secrets_.c.subject_id == subject_id, secrets_.c.id == row.id)
                        .values(confirmed_at=now, last_step=step)
                    )
                    conn.execute(
                        insert(secrets_),
                        [
                            {
                                "id": keys.new_id("rc_"),
                                "subject_id": subject_id,
                                "kind": "recovery",
                                "secret": keys.token_hash(ctx.keyring, "rc:" + c).encode(),
                                "last_step": 0,
                                "created_at": now,
                                "confirmed_at": now,
                                "used_at": None,
                            }
                            for c in codes
                        ],
                    )
                    conn.execute(
                        update(accounts)
                        .where(accounts.c.subject_id == subject_id)
                        .values(two_step=True, updated_at=now)
                    )
        if not ok:
            raise AuthError("the code is wrong", code="invalid_code")
        return codes

    def disable_two_step(self, session: SessionInfo, code: str) -> None:
        """
        Switch 2-step verification off: needs a fresh session and a current TOTP code.

        Raises:
            StepUpRequiredError: the session is not fresh.
            AuthError: wrong code.
        """
        ctx = self.context
        require_fresh(ctx, session)
        now = ctx.clock()
        with ctx.control.begin() as conn:
            ok = check_totp(ctx, conn, session.subject_id, code, now)
            if ok:
                conn.execute(secrets_.delete().where(secrets_.c.subject_id == session.subject_id))
                conn.execute(
                    update(accounts)
                    .where(accounts.c.subject_id == session.subject_id)
                    .values(two_step=False, updated_at=now)
                )
        if not ok:
            raise AuthError("the code is wrong", code="invalid_code")

    def verify_totp(self, subject_id: str, code: str) -> bool:
        """Check and consume a TOTP code (replays of an accepted step are refused)."""
        with self.context.control.begin() as conn:
            return check_totp(self.context, conn, subject_id, code, self.context.clock())
