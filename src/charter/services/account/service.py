"""
The account service: registration, sign-in with the environment check and step-up, 2-step
verification, sessions, devices, profile and the help-centre actions.

Personal values go to the gate (:class:`~.records.AccountRecords`); account state, sessions,
second factors and counters live in the control database (:mod:`.tables`). Every failed
sign-in, for an unknown identifier or a wrong password, costs one argon2 verification and
answers with the same error, so neither messages nor timing tell which accounts exist.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from charter.errors import AuthError, InputError, IntegrityError, NotFoundError, RefusedError
from charter.gate import PasswordHash
from charter.services.account import challenges, keys, passwords, risk, throttle, totp
from charter.services.account.errors import StepUpRequiredError, invalid_credentials
from charter.services.account.identifiers import Identifier, parse_identifier
from charter.services.account.records import AccountRecords
from charter.services.account.senders import NullSender, VerificationSender
from charter.services.account.sessions import (
    ACCOUNT_LIMITS,
    Limits,
    SessionInfo,
    TokenPair,
    TokenStore,
)
from charter.services.account.tables import accounts, devices, identifiers, networks, secrets_
from charter.services.account.tables import challenges as challenge_table

if TYPE_CHECKING:
    from charter.gate import Gate

MICROS = 1_000_000
MAX_FAILURES = 100
FRESH_AUTH_SECONDS = 600
NO_ACCOUNT = "s_" + "0" * 32
"""A subject id no account has (random ids are never all zeros): decoy queries use it."""
GENDERS = ("female", "male", "other", "unspecified")
ACTIVE, PENDING, FROZEN, BLOCKED = "active", "pending", "frozen", "blocked"
REGISTRATION = "registration"
"""Key, in a registration challenge's context, of its sealed payload (base64url)."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What a signing-in device says about itself (its id is hashed before storage)."""

    device_id: str | None = None
    model: str | None = None

    def __repr__(self) -> str:
        return "DeviceInfo(***)"


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """``ok`` with tokens, ``step_up`` with a challenge, or ``pending`` (approval awaited)."""

    status: str
    tokens: TokenPair | None = None
    challenge_id: str | None = None
    methods: tuple[str, ...] = ()
    account_id: str | None = None


@dataclass
class _Attempt:
    subject_id: str | None = None
    status: str | None = None
    locked: bool = False
    two_step: bool = False
    rehash: bool = False
    ok: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class AccountService:
    """Accounts of one Charter deployment."""

    def __init__(
        self,
        gate: Gate,
        *,
        sender: VerificationSender | None = None,
        hashing: passwords.HashingGate | None = None,
        limits: Limits = ACCOUNT_LIMITS,
        profile: passwords.Argon2Params = passwords.PRODUCTION,
    ) -> None:
        passwords.install_profile(gate.passwords, profile)
        self.gate = gate
        self.keyring = gate.keyring
        self.clock = gate.clock
        self.sender: VerificationSender = sender or NullSender()
        self.hashing = hashing or passwords.HashingGate()
        self.limits = limits
        self.records = AccountRecords(gate)
        self.tokens = TokenStore(gate.stores.control, gate.keyring, gate.clock)
        self.cipher = keys.CredentialCipher(gate.keyring)
        self.registrations = keys.RegistrationCipher(gate.keyring)
        self._decoy_region = sorted(gate.catalog.regions)[0]
        self._lock = threading.Lock()

    @property
    def control(self) -> Any:
        """The control database engine."""
        return self.gate.stores.control()

    # -- registration ----------------------------------------------------------------------

    def register(self, identifier: str, password: str, country: str) -> str:
        """
        Start a registration; returns a challenge id whatever happens, and sends a code only
        when the identifier is free (so the answer never tells whether it is taken).

        Nothing but the challenge is written here, by the same statements whether the
        identifier is free or taken, after one argon2 hash either way, so the time of the
        answer does not tell either: a free identifier's challenge carries, encrypted, what
        :meth:`confirm_registration` needs to create the account (identifier, country and the
        argon2id hash of the password, never the password); a taken one's carries random
        bytes of the same length and its code is never sent.

        Raises:
            InputError: malformed identifier, country or password.
            BusyError: too many password hashes in flight.
        """
        country, ident, pw, lookup = self._check_registration(identifier, password, country)
        now = self.clock()
        with self.control.connect().execution_options(readonly=True) as conn:
            taken = (
                conn.execute(
                    select(identifiers.c.subject_id).where(identifiers.c.lookup == lookup)
                ).first()
                is not None
            )
        with self.hashing:
            stored = passwords.hash_password(self.gate.passwords.hasher, pw, self.keyring.pepper)
        challenge_id = keys.new_id("ch_")
        plain = json.dumps(
            {"kind": ident.kind, "value": ident.value, "country": country, "hash": stored},
            sort_keys=True,
        )
        sealed = self.registrations.encrypt(plain.encode(), challenge_id=challenge_id)
        if taken:
            sealed = secrets.token_bytes(len(sealed))
        with self.control.begin() as conn:
            _, code = challenges.create(
                conn,
                self.keyring,
                subject_id=None,
                purpose="verify",
                now=now,
                challenge_id=challenge_id,
                context={REGISTRATION: base64.urlsafe_b64encode(sealed).decode("ascii")},
            )
        if not taken and code is not None:
            self.sender.send(ident, code, purpose="verify")
        return challenge_id

    def create(self, identifier: str, password: str, country: str, *, actor: str = "admin") -> str:
        """
        Create a verified account directly (operators; the CLI). Returns the account id.

        Raises:
            InputError: malformed input, or the identifier is already registered.
        """
        country, ident, pw, lookup = self._check_registration(identifier, password, country)
        taken_error = InputError("this identifier is already registered", field="identifier")
        with self.control.connect().execution_options(readonly=True) as conn:
            if (
                conn.execute(
                    select(identifiers.c.subject_id).where(identifiers.c.lookup == lookup)
                ).first()
                is not None
            ):
                raise taken_error
        with self.hashing:
            stored = passwords.hash_password(self.gate.passwords.hasher, pw, self.keyring.pepper)
        subject_id = self._create_account(ident, country, lookup, stored)
        if subject_id is None:
            raise taken_error
        self.gate.audit_admin(actor, "account_create", {"service": "account"})
        return subject_id

    def _check_registration(
        self, identifier: str, password: str, country: str
    ) -> tuple[str, Identifier, str, str]:
        country = str(country or "").lower()
        if country not in self.gate.catalog.markets:
            raise InputError("choose a country from the list", field="country")
        ident = parse_identifier(identifier, country)
        pw = passwords.check_policy(password, single_factor=True, context=_context_words(ident))
        return country, ident, pw, keys.lookup(self.keyring, ident.kind, ident.value)

    def _create_account(
        self, ident: Identifier, country: str, lookup: str, stored_hash: str
    ) -> str | None:
        """
        Create an active account (gate subject, records, account rows) whose password record
        is ``stored_hash``; ``None`` when the identifier was registered meanwhile.
        """
        now = self.clock()
        subject = self.gate.create_subject("account", country, actor="service:account")
        self.records.write(
            subject.id,
            [
                ("mi_account_id", subject.id, None),
                (_record_type(ident), ident.value, "login"),
                ("country", country.upper(), None),
                ("account_password", PasswordHash(stored_hash), None),
            ],
        )
        if self.records.password_hash(subject.id) != stored_hash.encode("ascii"):
            raise IntegrityError("the password hash of a new account was not stored as computed")
        try:
            with self.control.begin() as conn:
                conn.execute(
                    insert(accounts).values(
                        subject_id=subject.id,
                        region=subject.region,
                        status=ACTIVE,
                        two_step=False,
                        failures=0,
                        locked_at=None,
                        password_changed_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                conn.execute(
                    insert(identifiers).values(
                        lookup=lookup,
                        subject_id=subject.id,
                        kind=ident.kind,
                        role="login",
                        created_at=now,
                    )
                )
        except DBIntegrityError:  # the identifier was taken between the check and the insert
            return None
        return subject.id

    def confirm_registration(self, challenge_id: str, code: str) -> str:
        """
        Confirm the identifier with the code sent; creates the account and returns its id.

        Raises:
            AuthError: wrong, expired or used code, or the identifier was registered since
                (one message).
            IntegrityError: the new account's password record was not stored as computed.
        """
        now = self.clock()
        wrong = AuthError("the code is wrong or has expired", code="invalid_code")
        pending: dict[str, Any] | None = None
        legacy = False
        with self.control.begin() as conn:
            challenge = challenges.load(conn, challenge_id, purpose="verify", now=now)
            if challenge.subject_id is not None:  # started before accounts waited for their code
                legacy = challenges.code_matches(
                    self.keyring, conn, challenge, code
                ) and challenges.finish(conn, challenge.id)
                if legacy:
                    conn.execute(
                        update(accounts)
                        .where(
                            accounts.c.subject_id == challenge.subject_id,
                            accounts.c.status == PENDING,
                        )
                        .values(status=ACTIVE, updated_at=now)
                    )
            elif challenges.code_matches(self.keyring, conn, challenge, code, anonymous=True):
                pending = self._open_registration(challenge)
                if pending is not None and not challenges.finish(
                    conn, challenge.id, clear_context=True
                ):
                    pending = None
        if legacy and challenge.subject_id is not None:
            return challenge.subject_id
        if pending is None:
            raise wrong
        ident = Identifier(pending["kind"], pending["value"])
        lookup = keys.lookup(self.keyring, ident.kind, ident.value)
        with self.control.connect().execution_options(readonly=True) as conn:
            if (
                conn.execute(
                    select(identifiers.c.subject_id).where(identifiers.c.lookup == lookup)
                ).first()
                is not None
            ):
                raise wrong
        subject_id = self._create_account(ident, pending["country"], lookup, pending["hash"])
        if subject_id is None:
            raise wrong
        return subject_id

    def _open_registration(self, challenge: challenges.Challenge) -> dict[str, Any] | None:
        """What a registration challenge carries, or ``None`` (a decoy, or not a registration)."""
        sealed = challenge.context.get(REGISTRATION)
        if not isinstance(sealed, str):
            return None
        try:
            blob = base64.urlsafe_b64decode(sealed.encode("ascii"))
        except ValueError:
            return None
        plain = self.registrations.decrypt(blob, challenge_id=challenge.id)
        if plain is None:
            return None
        data = json.loads(plain)
        return data if isinstance(data, dict) else None

    # -- sign-in ---------------------------------------------------------------------------

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
        device = device or DeviceInfo()
        score = risk.bot_score(signals)
        signals = None  # the human-or-bot signals end here: scored, never stored or logged
        try:
            ident: Identifier | None = parse_identifier(identifier)
        except InputError:
            ident = None
        lookup = (
            keys.lookup(self.keyring, ident.kind, ident.value)
            if ident
            else keys.lookup(self.keyring, "raw", str(identifier)[:256])
        )
        id_key = keys.throttle_key(self.keyring, "id:" + lookup)
        ip_key = keys.throttle_key(self.keyring, "ip:" + (ip or "unknown"))
        now = self.clock()
        attempt = _Attempt()
        with self.control.connect().execution_options(readonly=True) as conn:
            throttle.check(conn, [id_key, ip_key], now)
            row = conn.execute(
                select(accounts)
                .join(identifiers, identifiers.c.subject_id == accounts.c.subject_id)
                .where(identifiers.c.lookup == lookup, identifiers.c.role == "login")
            ).first()
        if row is not None:
            attempt = _Attempt(row.subject_id, row.status, row.locked_at is not None, row.two_step)
        with self.hashing:
            if row is not None and not attempt.locked:
                stored = self.records.password_hash(row.subject_id)
            else:  # the same database work as for a real account, so timing tells nothing
                stored = None
                self.records.password_hash(NO_ACCOUNT, region=self._decoy_region)
            if stored is None:
                passwords.verify_dummy(self.gate.passwords.hasher, password, self.keyring.pepper)
            else:
                result = passwords.verify(
                    self.gate.passwords.hasher, stored, password, self.keyring.pepper
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
        with self.control.begin() as conn:
            throttle.clear(conn, id_key)
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == attempt.subject_id)
                .values(failures=0)
            )
        if attempt.rehash:
            self._store_password(attempt.subject_id, passwords.normalise(password), why="rehash")
        return self._environment_check(attempt, ident, device, ip, score)

    def _count_failure(self, subject_id: str | None, id_key: str, ip_key: str) -> None:
        now = self.clock()
        with self.control.begin() as conn:
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

    def _environment_check(
        self,
        attempt: _Attempt,
        ident: Identifier | None,
        device: DeviceInfo,
        ip: str | None,
        score: float,
    ) -> LoginOutcome:
        subject_id = attempt.subject_id
        assert subject_id is not None
        now = self.clock()
        device_id = self._remember_device(subject_id, device)
        prefix = risk.network_prefix(ip)
        net_key = keys.network_key(self.keyring, prefix) if prefix else None
        with self.control.connect().execution_options(readonly=True) as conn:
            trusted = (
                conn.execute(select(devices.c.trusted).where(devices.c.id == device_id)).scalar()
                if device_id
                else False
            )
            known_net = (
                net_key is not None
                and conn.execute(
                    select(networks.c.net_key).where(
                        networks.c.subject_id == subject_id, networks.c.net_key == net_key
                    )
                ).first()
                is not None
            )
        assessment = risk.assess(
            known_device=bool(trusted),
            known_network=known_net,
            bot=score,
            pending=attempt.status == PENDING,
        )
        if not assessment.step_up:
            with self.control.begin() as conn:
                self._seen(conn, subject_id, device_id, net_key, now, trust=False)
                pair = self.tokens.open_session(
                    conn,
                    subject_id=subject_id,
                    kind="account",
                    limits=self.limits,
                    device_id=device_id,
                )
            return LoginOutcome("ok", pair, account_id=subject_id)
        approval = attempt.two_step and attempt.status != PENDING
        context = {
            "device_id": device_id,
            "net_key": net_key,
            "approval": approval,
            "reasons": list(assessment.reasons),
        }
        with self.control.begin() as conn:
            challenge_id, code = challenges.create(
                conn,
                self.keyring,
                subject_id=subject_id,
                purpose="login",
                now=now,
                context=context,
                with_code=not approval,
            )
        if code is not None and ident is not None:
            self.sender.send(ident, code, purpose="login")
        methods = ("totp", "recovery_code", "approval") if approval else ("code",)
        return LoginOutcome("step_up", challenge_id=challenge_id, methods=methods)

    def _remember_device(self, subject_id: str, device: DeviceInfo) -> str | None:
        if not device.device_id:
            return None
        dkey = keys.device_key(self.keyring, str(device.device_id)[:256])
        now = self.clock()
        with self.control.connect().execution_options(readonly=True) as conn:
            found = conn.execute(
                select(devices.c.id).where(
                    devices.c.subject_id == subject_id,
                    devices.c.device_key == dkey,
                    devices.c.removed_at.is_(None),
                )
            ).scalar()
        if found:
            return str(found)
        device_id = keys.new_id("d_")
        values: list[tuple[str, Any, str | None]] = [
            ("android_id", str(device.device_id)[:256], f"device:{device_id}")
        ]
        if device.model:
            values.append(("device_model", str(device.model)[:120], f"device:{device_id}"))
        self.records.write(subject_id, values)
        with self.control.begin() as conn:
            conn.execute(
                insert(devices).values(
                    id=device_id,
                    subject_id=subject_id,
                    device_key=dkey,
                    trusted=False,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return device_id

    def _seen(
        self,
        conn: Connection,
        subject_id: str,
        device_id: str | None,
        net_key: str | None,
        now: int,
        *,
        trust: bool,
    ) -> None:
        if device_id:
            values: dict[str, Any] = {"last_seen_at": now}
            if trust:
                values["trusted"] = True
            conn.execute(update(devices).where(devices.c.id == device_id).values(**values))
        if net_key and trust:
            updated = conn.execute(
                update(networks)
                .where(networks.c.subject_id == subject_id, networks.c.net_key == net_key)
                .values(last_seen_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    insert(networks).values(
                        subject_id=subject_id, net_key=net_key, first_seen_at=now, last_seen_at=now
                    )
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
        now = self.clock()
        error: AuthError | None = None
        outcome: LoginOutcome | None = None
        with self.control.begin() as conn:
            challenge = challenges.load(conn, challenge_id, purpose="login", now=now)
            subject_id = challenge.subject_id
            assert subject_id is not None
            ctx = challenge.context
            if ctx.get("approval"):
                if totp_code is not None:
                    ok = self._check_totp(conn, subject_id, totp_code, now)
                elif recovery_code is not None:
                    ok = self._spend_recovery(conn, subject_id, recovery_code, now)
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
                ok = challenges.code_matches(self.keyring, conn, challenge, code)
            if outcome is None:
                if ok and challenges.finish(conn, challenge.id):
                    conn.execute(
                        update(accounts)
                        .where(accounts.c.subject_id == subject_id, accounts.c.status == PENDING)
                        .values(status=ACTIVE)
                    )
                    self._seen(
                        conn, subject_id, ctx.get("device_id"), ctx.get("net_key"), now, trust=True
                    )
                    pair = self.tokens.open_session(
                        conn,
                        subject_id=subject_id,
                        kind="account",
                        limits=self.limits,
                        device_id=ctx.get("device_id"),
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

    # -- sessions --------------------------------------------------------------------------

    def authenticate(self, access_token: str) -> SessionInfo:
        """The first-party session of an access token (raises ``AuthError``)."""
        info = self.tokens.authenticate(access_token, kind="account")
        self._require_usable(info.subject_id)
        return info

    def _require_usable(self, subject_id: str) -> None:
        with self.control.connect().execution_options(readonly=True) as conn:
            status = conn.execute(
                select(accounts.c.status).where(accounts.c.subject_id == subject_id)
            ).scalar()
        if status not in (ACTIVE, PENDING):
            raise AuthError("the access token is invalid or expired", code="invalid_token")

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a first-party refresh token (reuse revokes the session)."""
        with self.control.begin() as conn:
            result = self.tokens.rotate(conn, refresh_token, self.limits)
        if isinstance(result, AuthError):
            raise result
        return result

    def logout(self, session: SessionInfo) -> None:
        """End a session at once."""
        with self.control.begin() as conn:
            self.tokens.revoke(conn, session.session_id, why="logout")

    def require_fresh(self, session: SessionInfo) -> None:
        """
        Raises:
            StepUpRequiredError: the session's last authentication is older than 10 minutes.
        """
        if self.clock() - session.auth_time > FRESH_AUTH_SECONDS * MICROS:
            raise StepUpRequiredError(
                "confirm your password (POST /v1/account/reauth) first", code="step_up_required"
            )

    def reauthenticate(
        self, session: SessionInfo, password: str, totp_code: str | None = None
    ) -> None:
        """
        Step up a session with the password (and a TOTP code when 2-step verification is on).

        Raises:
            AuthError: wrong password or code.
        """
        subject_id = session.subject_id
        with self.hashing:
            stored = self.records.password_hash(subject_id)
            ok = (
                stored is not None
                and passwords.verify(
                    self.gate.passwords.hasher, stored, password, self.keyring.pepper
                ).ok
            )
        now = self.clock()
        with self.control.begin() as conn:
            two_step = conn.execute(
                select(accounts.c.two_step).where(accounts.c.subject_id == subject_id)
            ).scalar()
            if ok and two_step:
                ok = totp_code is not None and self._check_totp(conn, subject_id, totp_code, now)
            if ok:
                self.tokens.touch_auth(conn, session.session_id)
            else:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.subject_id == subject_id)
                    .values(failures=accounts.c.failures + 1)
                )
        if not ok:
            raise invalid_credentials()

    # -- devices and approvals -------------------------------------------------------------

    def devices(self, subject_id: str) -> list[dict[str, Any]]:
        """Devices of the account with their model and whether a session is live on them."""
        live = {s["device_id"] for s in self.tokens.live_sessions(subject_id, "account")}
        models = {r.source: r.value for r in self.records.read(subject_id, "device_model")}
        with self.control.connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(devices)
                .where(devices.c.subject_id == subject_id, devices.c.removed_at.is_(None))
                .order_by(devices.c.created_at)
            ).all()
        return [
            {
                "id": r.id,
                "model": models.get(f"device:{r.id}"),
                "trusted": bool(r.trusted),
                "signed_in": r.id in live,
                "first_seen_at": r.created_at,
                "last_seen_at": r.last_seen_at,
            }
            for r in rows
        ]

    def remove_device(self, subject_id: str, device_id: str) -> None:
        """
        Sign a device out and forget it (its model and hashed id are deleted).

        Raises:
            NotFoundError: no such device of this account.
        """
        now = self.clock()
        with self.control.begin() as conn:
            done = conn.execute(
                update(devices)
                .where(
                    devices.c.id == device_id,
                    devices.c.subject_id == subject_id,
                    devices.c.removed_at.is_(None),
                )
                .values(removed_at=now, trusted=False)
            ).rowcount
            if not done:
                raise NotFoundError("no such device", field="device_id")
            self.tokens.revoke_where(
                conn,
                subject_id=subject_id,
                kind="account",
                device_id=device_id,
                why="device_removed",
            )
        source = f"device:{device_id}"
        ids = [r.id for r in self.records.read(subject_id) if r.source == source]
        self.records.delete(subject_id, ids, why="device_removed")

    def sessions(self, subject_id: str) -> list[dict[str, Any]]:
        """Live first-party sessions (Manage devices)."""
        return [
            {
                "id": s["id"],
                "device_id": s["device_id"],
                "created_at": s["created_at"],
                "last_used_at": s["last_used_at"],
                "expires_at": s["expires_at"],
            }
            for s in self.tokens.live_sessions(subject_id, "account")
        ]

    def end_session(self, subject_id: str, session_id: str) -> None:
        """
        Sign out one session of the account.

        Raises:
            NotFoundError: no such live session of this account.
        """
        if not any(s["id"] == session_id for s in self.tokens.live_sessions(subject_id, "account")):
            raise NotFoundError("no such session", field="session_id")
        with self.control.begin() as conn:
            self.tokens.revoke(conn, session_id, why="signed_out")

    def pending_approvals(self, subject_id: str) -> list[dict[str, Any]]:
        """Sign-ins waiting for this account's approval."""
        with self.control.connect().execution_options(readonly=True) as conn:
            return challenges.pending_approvals(conn, subject_id, self.clock())

    def decide_approval(self, subject_id: str, challenge_id: str, approve: bool) -> None:
        """
        Approve or deny a pending sign-in from another device.

        Raises:
            NotFoundError: no such pending sign-in of this account.
        """
        with self.control.begin() as conn:
            if not challenges.decide(conn, challenge_id, subject_id, approve, self.clock()):
                raise NotFoundError("no such pending sign-in", field="challenge_id")

    # -- profile ---------------------------------------------------------------------------

    def profile(self, subject_id: str) -> dict[str, Any]:
        """Nickname, picture and gender, plus masked sign-in and recovery contacts."""
        out: dict[str, Any] = {
            "account_id": subject_id,
            "nickname": None,
            "picture": None,
            "gender": None,
            "contacts": [],
        }
        for r in self.records.read(subject_id):
            if r.data_type == "profile_data" and isinstance(r.value, dict):
                out.update({k: r.value.get(k) for k in ("nickname", "picture", "gender")})
            elif r.data_type in ("email_address", "phone_number") and isinstance(r.value, str):
                out["contacts"].append(
                    {
                        "kind": "email" if r.data_type == "email_address" else "phone",
                        "role": r.source,
                        "value": r.value,
                    }
                )
            elif r.data_type == "country":
                out["country"] = r.value
        return out

    def update_profile(
        self,
        subject_id: str,
        *,
        nickname: str | None = None,
        picture: str | None = None,
        gender: str | None = None,
    ) -> dict[str, Any]:
        """
        Change the profile (unset fields keep their value).

        Raises:
            InputError: a nickname over 64 characters, a picture that is not an https URL, or
                an unknown gender.
        """
        current = self.records.latest(subject_id, "profile_data")
        value = dict(current.value) if current and isinstance(current.value, dict) else {}
        if nickname is not None:
            if len(nickname) > 64 or any(ord(c) < 32 for c in nickname):
                raise InputError("a nickname has at most 64 printable characters", field="nickname")
            value["nickname"] = nickname
        if picture is not None:
            if not (picture.startswith("https://") and len(picture) <= 512) and picture != "":
                raise InputError(
                    "the picture must be an https URL (at most 512 characters)", field="picture"
                )
            value["picture"] = picture or None
        if gender is not None:
            if gender not in GENDERS:
                raise InputError(f"gender is one of: {', '.join(GENDERS)}", field="gender")
            value["gender"] = gender
        self.records.replace(subject_id, "profile_data", value, why="profile_update")
        return self.profile(subject_id)

    def set_recovery_contact(self, session: SessionInfo, contact: str) -> None:
        """
        Set (or replace) the recovery phone or email; needs a fresh authentication.

        Raises:
            StepUpRequiredError: the session is not fresh.
            InputError: malformed contact.
        """
        self.require_fresh(session)
        subject_id = session.subject_id
        ident = parse_identifier(contact, self.gate.subject(subject_id).market)
        data_type = _record_type(ident)
        old = [r.id for r in self.records.read(subject_id) if r.source == "recovery"]
        self.records.write(subject_id, [(data_type, ident.value, "recovery")])
        self.records.delete(subject_id, old, why="recovery_change")
        now = self.clock()
        with self.control.begin() as conn:
            conn.execute(
                identifiers.delete().where(
                    identifiers.c.subject_id == subject_id, identifiers.c.role == "recovery"
                )
            )
            lookup = keys.lookup(self.keyring, ident.kind, ident.value)
            exists = conn.execute(
                select(identifiers.c.lookup).where(identifiers.c.lookup == lookup)
            ).first()
            if exists is None:
                conn.execute(
                    insert(identifiers).values(
                        lookup=lookup,
                        subject_id=subject_id,
                        kind=ident.kind,
                        role="recovery",
                        created_at=now,
                    )
                )

    # -- 2-step verification ---------------------------------------------------------------

    def begin_totp(self, session: SessionInfo) -> tuple[str, str]:
        """
        Start 2-step verification: a new seed (shown once) and its ``otpauth://`` URI.

        Raises:
            StepUpRequiredError: the session is not fresh.
        """
        self.require_fresh(session)
        seed = totp.new_seed()
        secret_id = keys.new_id("sk_")
        now = self.clock()
        with self.control.begin() as conn:
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
                    secret=self.cipher.encrypt(
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
        now = self.clock()
        subject_id = session.subject_id
        codes = totp.new_recovery_codes()
        ok = False
        with self.control.begin() as conn:
            row = conn.execute(
                select(secrets_).where(
                    secrets_.c.subject_id == subject_id,
                    secrets_.c.kind == "totp",
                    secrets_.c.confirmed_at.is_(None),
                )
            ).first()
            if row is not None:
                seed = self.cipher.decrypt(
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
                        .where(secrets_.c.id == row.id)
                        .values(confirmed_at=now, last_step=step)
                    )
                    conn.execute(
                        insert(secrets_),
                        [
                            {
                                "id": keys.new_id("rc_"),
                                "subject_id": subject_id,
                                "kind": "recovery",
                                "secret": keys.token_hash(self.keyring, "rc:" + c).encode(),
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
        self.require_fresh(session)
        now = self.clock()
        with self.control.begin() as conn:
            ok = self._check_totp(conn, session.subject_id, code, now)
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
        with self.control.begin() as conn:
            return self._check_totp(conn, subject_id, code, self.clock())

    def _check_totp(self, conn: Connection, subject_id: str, code: str, now: int) -> bool:
        row = conn.execute(
            select(secrets_).where(
                secrets_.c.subject_id == subject_id,
                secrets_.c.kind == "totp",
                secrets_.c.confirmed_at.is_not(None),
            )
        ).first()
        if row is None:
            return False
        seed = self.cipher.decrypt(row.secret, subject_id=subject_id, credential_id=row.id).decode()
        step = totp.matching_step(seed, str(code), now / MICROS)
        if step is None:
            return False
        return (
            conn.execute(
                update(secrets_)
                .where(secrets_.c.id == row.id, secrets_.c.last_step < step)
                .values(last_step=step)
            ).rowcount
            or 0
        ) == 1

    def _spend_recovery(self, conn: Connection, subject_id: str, code: str, now: int) -> bool:
        digest = keys.token_hash(self.keyring, "rc:" + totp.canonical_recovery_code(code)).encode()
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

    # -- help centre -----------------------------------------------------------------------

    def request_help(self, identifier: str, action: str) -> str:
        """
        Start a help-centre action (``reset``, ``unfreeze``) for an identifier: a code goes to
        it when it belongs to an account; the answer is the same either way.

        Raises:
            InputError: malformed identifier or unknown action.
        """
        if action not in ("reset", "unfreeze"):
            raise InputError("action is reset or unfreeze", field="action")
        ident = parse_identifier(identifier)
        lookup = keys.lookup(self.keyring, ident.kind, ident.value)
        now = self.clock()
        with self.control.begin() as conn:
            subject_id = conn.execute(
                select(identifiers.c.subject_id).where(identifiers.c.lookup == lookup)
            ).scalar()
            challenge_id, code = challenges.create(
                conn, self.keyring, subject_id=subject_id, purpose=action, now=now, with_code=True
            )
        if subject_id is not None and code is not None:
            self.sender.send(ident, code, purpose=action)
        return challenge_id

    def reset_password(self, challenge_id: str, code: str, new_password: str) -> None:
        """
        Set a new password with a reset code: unlocks the account and signs out everywhere.

        Raises:
            AuthError: wrong or expired code.
            InputError: the new password breaks the policy.
        """
        subject_id = self._finish_help(challenge_id, "reset", code)
        with self.control.connect() as conn:
            two_step = bool(
                conn.execute(
                    select(accounts.c.two_step).where(accounts.c.subject_id == subject_id)
                ).scalar()
            )
        pw = passwords.check_policy(new_password, single_factor=not two_step)
        self._store_password(subject_id, pw, why="reset")
        with self.control.begin() as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == subject_id)
                .values(failures=0, locked_at=None, password_changed_at=self.clock())
            )
            self.tokens.revoke_where(conn, subject_id=subject_id, why="password_reset")

    def change_password(self, session: SessionInfo, new_password: str) -> None:
        """
        Change the password from a fresh session; other sessions are signed out.

        Raises:
            StepUpRequiredError: the session is not fresh.
            InputError: the new password breaks the policy.
        """
        self.require_fresh(session)
        with self.control.connect() as conn:
            two_step = bool(
                conn.execute(
                    select(accounts.c.two_step).where(accounts.c.subject_id == session.subject_id)
                ).scalar()
            )
        pw = passwords.check_policy(new_password, single_factor=not two_step)
        self._store_password(session.subject_id, pw, why="change")
        with self.control.begin() as conn:
            self.tokens.revoke_where(
                conn, subject_id=session.subject_id, why="password_change", keep=session.session_id
            )

    def unfreeze(self, challenge_id: str, code: str, password: str) -> None:
        """
        Unfreeze an account with a code sent to it and its password.

        Raises:
            AuthError: wrong code or password.
        """
        subject_id = self._finish_help(challenge_id, "unfreeze", code)
        with self.hashing:
            stored = self.records.password_hash(subject_id)
            ok = (
                stored is not None
                and passwords.verify(
                    self.gate.passwords.hasher, stored, password, self.keyring.pepper
                ).ok
            )
        if not ok:
            raise invalid_credentials()
        self.set_status(subject_id, ACTIVE, expect=(FROZEN,), actor="subject")

    def _finish_help(self, challenge_id: str, purpose: str, code: str) -> str:
        now = self.clock()
        with self.control.begin() as conn:
            challenge = challenges.load(conn, challenge_id, purpose=purpose, now=now)
            ok = challenges.code_matches(self.keyring, conn, challenge, code) and challenges.finish(
                conn, challenge.id
            )
        if not ok or challenge.subject_id is None:
            raise AuthError("the code is wrong or has expired", code="invalid_code")
        return challenge.subject_id

    def freeze(self, subject_id: str, *, actor: str) -> None:
        """Freeze an account (e.g. a lost phone): sign-in refused, every session ended."""
        self.set_status(subject_id, FROZEN, expect=(ACTIVE, PENDING), actor=actor)

    def block(self, subject_id: str, *, actor: str) -> None:
        """Block an account (security or abuse): sign-in refused, every session ended."""
        self.set_status(subject_id, BLOCKED, expect=(ACTIVE, PENDING, FROZEN), actor=actor)

    def unblock(self, subject_id: str, *, actor: str) -> None:
        """Lift a block."""
        self.set_status(subject_id, ACTIVE, expect=(BLOCKED,), actor=actor)

    def set_status(
        self, subject_id: str, status: str, *, expect: tuple[str, ...], actor: str
    ) -> None:
        """
        Move an account between states, ending every session and grant when it stops being usable.

        Raises:
            NotFoundError: no such account.
            RefusedError: the account is not in one of the ``expect`` states.
        """
        now = self.clock()
        with self.control.begin() as conn:
            current = conn.execute(
                select(accounts.c.status).where(accounts.c.subject_id == subject_id)
            ).scalar()
            if current is None:
                raise NotFoundError("no such account", field="account_id")
            if current not in expect:
                raise RefusedError(f"the account is {current}", code=f"account_{current}")
            conn.execute(
                update(accounts)
                .where(accounts.c.subject_id == subject_id)
                .values(status=status, updated_at=now, failures=0, locked_at=None)
            )
            if status in (FROZEN, BLOCKED):
                self.tokens.revoke_where(conn, subject_id=subject_id, why=status)
        self.gate.audit_admin(
            actor if actor.startswith(("admin", "subject", "service")) else "admin",
            "account_status",
            {"status": status},
        )

    def status(self, subject_id: str) -> dict[str, Any]:
        """The account's state (status, 2-step verification, lock)."""
        with self.control.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.subject_id == subject_id)).first()
        if row is None:
            raise NotFoundError("no such account", field="account_id")
        return {
            "account_id": subject_id,
            "status": row.status,
            "two_step": bool(row.two_step),
            "locked": row.locked_at is not None,
        }

    def _store_password(self, subject_id: str, password: str, *, why: str) -> None:
        with self.hashing:
            self.records.replace(subject_id, "account_password", password, why=why)


def _record_type(ident: Identifier) -> str:
    return "email_address" if ident.kind == "email" else "phone_number"


def _context_words(ident: Identifier) -> tuple[str, ...]:
    if ident.kind == "email":
        local, _, domain = ident.value.partition("@")
        return (local, domain.split(".")[0])
    return (ident.value.lstrip("+"),)
