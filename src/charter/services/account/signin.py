"""
Sign-in: the password step (throttles, one argon2 verification for every attempt, the same
answer for every failure, the lock after 100 failures), handed to the environment check, and
the answer to a step-up (a code sent, a TOTP code, a recovery code or an approval).

Every failed sign-in, for an unknown identifier or a wrong password, costs one argon2
verification and answers with the same error, so neither messages nor timing tell which
accounts exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update

from charter.errors import AuthError, InputError, RefusedError
from charter.services.account import challenges, keys, passwords, risk, throttle
from charter.services.account.common import store_password
from charter.services.account.context import (
    ACTIVE,
    BLOCKED,
    FROZEN,
    NO_ACCOUNT,
    PENDING,
    AccountContext,
)
from charter.services.account.environment import EnvironmentCheck
from charter.services.account.errors import invalid_credentials
from charter.services.account.factors import check_totp, spend_recovery_code
from charter.services.account.identifiers import Identifier, parse_identifier
from charter.services.account.models import DeviceInfo, LoginOutcome
from charter.services.account.tables import accounts, identifiers
from charter.services.account.tables import challenges as challenge_table

MAX_FAILURES = 100


@dataclass
class _Attempt:
    """What the password step learnt about the account signing in."""

    subject_id: str | None = None
    status: str | None = None
    locked: bool = False
    two_step: bool = False
    rehash: bool = False
    ok: bool = False


class SignIn:
    """Signing in: :meth:`login` and, after a step-up, :meth:`complete_login`."""

    def __init__(self, context: AccountContext, environment: EnvironmentCheck) -> None:
        self.context = context
        self.environment = environment

    def login(
        self,
        identifier: str,
        password: str,
        *,
        device: DeviceInfo | None = None,
        ip: str | None = None,
        signals: Mapping[str, object] | None = None,
    ) -> LoginOutcome:
        """
        Sign in with an identifier and a password, then the environment check.

        Raises:
            AuthError: wrong identifier or password, locked account (one message for all).
            ThrottledError: back-off in force for the identifier or the IP.
            BusyError: too many password verifications in flight.
            RefusedError: the account is frozen or blocked (only after a correct password).
        """
        ctx = self.context
        device = device or DeviceInfo()
        score = risk.bot_score(signals)
        signals = None  # the human-or-bot signals end here: scored, never stored or logged
        try:
            ident: Identifier | None = parse_identifier(identifier)
        except InputError:
            ident = None
        lookup = (
            keys.lookup(ctx.keyring, ident.kind, ident.value)
            if ident
            else keys.lookup(ctx.keyring, "raw", str(identifier)[:256])
        )
        id_key = keys.throttle_key(ctx.keyring, "id:" + lookup)
        ip_key = keys.throttle_key(ctx.keyring, "ip:" + (ip or "unknown"))
        now = ctx.clock()
        attempt = _Attempt()
        with ctx.control.connect().execution_options(readonly=True) as conn:
            throttle.check(conn, [id_key, ip_key], now)
            row = conn.execute(
                select(accounts)
                .join(identifiers, identifiers.c.subject_id == accounts.c.subject_id)
                .where(identifiers.c.lookup == lookup, identifiers.c.role == "login")
            ).first()
        if row is not None:
            attempt = _Attempt(row.subject_id, row.status, row.locked_at is not None, row.two_step)
        with ctx.hashing:
            if row is not None and not attempt.locked:
                stored = ctx.records.password_hash(row.subject_id)
            else:  # the same database work as for a real account, so timing tells nothing
                stored = None
                ctx.records.password_hash(NO_ACCOUNT, region=ctx.decoy_region)
            if stored is None:
                passwords.verify_dummy(ctx.gate.passwords.hasher, password, ctx.keyring.pepper)
            else:
                result = passwords.verify(
                    ctx.gate.passwords.hasher, stored, password, ctx.keyring.pepper
                )
                attempt.ok, attempt.rehash = result.ok, result.needs_rehash
        if not attempt.ok:
            self._count_failure(attempt.subject_id, id_key, ip_key)
            raise invalid_credentials()
        assert attempt.subject_id is not None
        if attempt.status in (FROZEN, BLOCKED):
            raise RefusedError(
                f"the account is {attempt.status}; use the help centre",
                code=f"account_{attempt.status}",
            )
        with ctx.control.begin() as conn:
            throttle.clear(conn, id_key)
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == attempt.subject_id)
                .values(failures=0)
            )
        if attempt.rehash:
            store_password(ctx, attempt.subject_id, passwords.normalise(password), why="rehash")
        return self.environment.check(
            attempt.subject_id,
            status=attempt.status,
            two_step=attempt.two_step,
            ident=ident,
            device=device,
            ip=ip,
            score=score,
        )

    def _count_failure(self, subject_id: str | None, id_key: str, ip_key: str) -> None:
        """Count a failed sign-in on the throttles and the account (locked at 100)."""
        now = self.context.clock()
        with self.context.control.begin() as conn:
            throttle.fail(conn, id_key, throttle.IDENTIFIER, now)
            throttle.fail(conn, ip_key, throttle.IP, now)
            target = (
                subject_id or NO_ACCOUNT
            )  # unknown identifiers run the same statements on no row
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == target)
                .values(failures=accounts.c.failures + 1)
            )
            conn.execute(
                update(accounts)
                .where(
                    accounts.c.subject_id == target,
                    accounts.c.failures >= MAX_FAILURES,
                    accounts.c.locked_at.is_(None),
                )
                .values(locked_at=now)
            )

    def complete_login(
        self,
        challenge_id: str,
        *,
        code: str | None = None,
        totp_code: str | None = None,
        recovery_code: str | None = None,
    ) -> LoginOutcome:
        """
        Answer a step-up with the code sent, a TOTP code, a recovery code, or (no argument)
        the approval given on another device.

        Raises:
            AuthError: wrong answer, or unknown/expired/used challenge (one message).
        """
        ctx = self.context
        now = ctx.clock()
        error: AuthError | None = None
        outcome: LoginOutcome | None = None
        with ctx.control.begin() as conn:
            challenge = challenges.load(conn, challenge_id, purpose="login", now=now)
            subject_id = challenge.subject_id
            assert subject_id is not None
            cctx = challenge.context
            if cctx.get("approval"):
                if totp_code is not None:
                    ok = check_totp(ctx, conn, subject_id, totp_code, now)
                elif recovery_code is not None:
                    ok = spend_recovery_code(ctx, conn, subject_id, recovery_code, now)
                elif challenge.state == "pending":
                    outcome = LoginOutcome(
                        "pending",
                        challenge_id=challenge.id,
                        methods=("totp", "recovery_code", "approval"),
                    )
                    ok = False
                else:
                    ok = challenge.state == "approved"
                if not ok and outcome is None:
                    conn.execute(
                        update(challenge_table)
                        .where(challenge_table.c.id == challenge.id)
                        .values(attempts=challenge_table.c.attempts + 1)
                    )
            else:
                ok = challenges.code_matches(ctx.keyring, conn, challenge, code)
            if outcome is None:
                if ok and challenges.finish(conn, challenge.id):
                    conn.execute(
                        update(accounts)
                        .where(accounts.c.subject_id == subject_id, accounts.c.status == PENDING)
                        .values(status=ACTIVE)
                    )
                    self.environment.record_seen(
                        conn,
                        subject_id,
                        cctx.get("device_id"),
                        cctx.get("net_key"),
                        now,
                        trust=True,
                    )
                    pair = ctx.tokens.open_session(
                        conn,
                        subject_id=subject_id,
                        kind="account",
                        limits=ctx.limits,
                        device_id=cctx.get("device_id"),
                    )
                    outcome = LoginOutcome("ok", pair, account_id=subject_id)
                else:
                    conn.execute(
                        update(accounts)
                        .where(accounts.c.subject_id == subject_id)
                        .values(failures=accounts.c.failures + 1)
                    )
                    error = AuthError("the verification failed", code="invalid_code")
        if error is not None:
            raise error
        assert outcome is not None
        return outcome
