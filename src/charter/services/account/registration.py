"""
Registration: a verification challenge first, the account at confirmation (no enumeration
by answer or timing), and operators' direct creation.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from charter import crashpoints
from charter.errors import AuthError, InputError, IntegrityError
from charter.gate import PasswordHash
from charter.gate.erasure import discard_subject
from charter.services.account import challenges, keys, passwords
from charter.services.account.common import record_type
from charter.services.account.context import ACTIVE, PENDING, AccountContext
from charter.services.account.identifiers import Identifier, parse_identifier
from charter.services.account.tables import accounts, identifiers
from charter.store.schema import subject_directory

REGISTRATION = "registration"
"""Key, in a registration challenge's context, of its sealed payload (base64url)."""


class Registration:
    """Registering accounts: :meth:`register`, :meth:`confirm_registration`, :meth:`create`."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

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
        ctx = self.context
        country, ident, pw, lookup = self._check_registration(identifier, password, country)
        now = ctx.clock()
        with ctx.control.connect().execution_options(readonly=True) as conn:
            taken = _is_taken(conn, lookup)
        with ctx.hashing:
            stored = passwords.hash_password(ctx.gate.passwords.hasher, pw, ctx.keyring.pepper)
        challenge_id = keys.new_id("ch_")
        plain = json.dumps(
            {"kind": ident.kind, "value": ident.value, "country": country, "hash": stored},
            sort_keys=True,
        )
        sealed = ctx.registrations.encrypt(plain.encode(), challenge_id=challenge_id)
        if taken:
            sealed = secrets.token_bytes(len(sealed))
        with ctx.control.begin() as conn:
            _, code = challenges.create(
                conn,
                ctx.keyring,
                subject_id=None,
                purpose="verify",
                now=now,
                challenge_id=challenge_id,
                context={REGISTRATION: base64.urlsafe_b64encode(sealed).decode("ascii")},
            )
        if not taken and code is not None:
            ctx.sender.send(ident, code, purpose="verify")
        return challenge_id

    def create(self, identifier: str, password: str, country: str, *, actor: str = "admin") -> str:
        """
        Create a verified account directly (operators; the CLI). Returns the account id.

        Raises:
            InputError: malformed input, or the identifier is already registered.
        """
        ctx = self.context
        country, ident, pw, lookup = self._check_registration(identifier, password, country)
        taken_error = InputError("this identifier is already registered", field="identifier")
        with ctx.control.connect().execution_options(readonly=True) as conn:
            if _is_taken(conn, lookup):
                raise taken_error
        with ctx.hashing:
            stored = passwords.hash_password(ctx.gate.passwords.hasher, pw, ctx.keyring.pepper)
        subject_id = self._create_account(ident, country, lookup, stored)
        if subject_id is None:
            raise taken_error
        ctx.gate.audit_admin(actor, "account_create", {"service": "account"})
        return subject_id

    def confirm_registration(self, challenge_id: str, code: str) -> str:
        """
        Confirm the identifier with the code sent; creates the account and returns its id.

        Raises:
            AuthError: wrong, expired or used code, or the identifier was registered since
                (one message).
            IntegrityError: the new account's password record was not stored as computed.
        """
        ctx = self.context
        now = ctx.clock()
        wrong = AuthError("the code is wrong or has expired", code="invalid_code")
        pending: dict[str, Any] | None = None
        legacy = False
        with ctx.control.begin() as conn:
            challenge = challenges.load(conn, challenge_id, purpose="verify", now=now)
            if challenge.subject_id is not None:  # started before accounts waited for their code
                legacy = challenges.code_matches(
                    ctx.keyring, conn, challenge, code
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
            elif challenges.code_matches(ctx.keyring, conn, challenge, code, anonymous=True):
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
        lookup = keys.lookup(ctx.keyring, ident.kind, ident.value)
        with ctx.control.connect().execution_options(readonly=True) as conn:
            if _is_taken(conn, lookup):
                raise wrong
        subject_id = self._create_account(ident, pending["country"], lookup, pending["hash"])
        if subject_id is None:
            raise wrong
        return subject_id

    def _check_registration(
        self, identifier: str, password: str, country: str
    ) -> tuple[str, Identifier, str, str]:
        """The checked country, identifier and password, and the identifier's blind index."""
        ctx = self.context
        country = str(country or "").lower()
        if country not in ctx.gate.catalog.markets:
            raise InputError("choose a country from the list", field="country")
        ident = parse_identifier(identifier, country)
        pw = passwords.check_policy(password, single_factor=True, context=_context_words(ident))
        return country, ident, pw, keys.lookup(ctx.keyring, ident.kind, ident.value)

    def _create_account(
        self, ident: Identifier, country: str, lookup: str, stored_hash: str
    ) -> str | None:
        """
        Create an active account (gate subject, records, account rows) whose password record
        is ``stored_hash``; ``None`` when the identifier was registered meanwhile.
        """
        ctx = self.context
        now = ctx.clock()
        subject = ctx.gate.create_subject("account", country, actor="service:account")
        ctx.records.write(
            subject.id,
            [
                ("mi_account_id", subject.id, None),
                (record_type(ident), ident.value, "login"),
                ("country", country.upper(), None),
                ("account_password", PasswordHash(stored_hash), None),
            ],
        )
        if ctx.records.password_hash(subject.id) != stored_hash.encode("ascii"):
            raise IntegrityError("the password hash of a new account was not stored as computed")
        crashpoints.reach("registration.subject_created")
        try:
            with ctx.control.begin() as conn:
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
            discard_subject(ctx.gate, subject.id)
            return None
        return subject.id

    def sweep_orphans(self, *, grace_seconds: int = 3600) -> int:
        """
        Erase the subjects a registration created but never finished (the process died
        between the gate's records and the account rows), older than ``grace_seconds``;
        returns how many. Run by ``charter resume`` and at ``charter serve`` start-up.
        """
        ctx = self.context
        cutoff = ctx.clock() - grace_seconds * 1_000_000
        d = subject_directory
        with ctx.control.connect().execution_options(readonly=True) as conn:
            orphans = (
                conn.execute(
                    select(d.c.subject_id)
                    .outerjoin(accounts, accounts.c.subject_id == d.c.subject_id)
                    .where(
                        d.c.kind == "account",
                        d.c.created_at < cutoff,
                        accounts.c.subject_id.is_(None),
                    )
                )
                .scalars()
                .all()
            )
        for subject_id in orphans:
            discard_subject(ctx.gate, subject_id)
        return len(orphans)

    def _open_registration(self, challenge: challenges.Challenge) -> dict[str, Any] | None:
        """What a registration challenge carries, or ``None`` (a decoy, or not a registration)."""
        sealed = challenge.context.get(REGISTRATION)
        if not isinstance(sealed, str):
            return None
        try:
            blob = base64.urlsafe_b64decode(sealed.encode("ascii"))
        except ValueError:
            return None
        plain = self.context.registrations.decrypt(blob, challenge_id=challenge.id)
        if plain is None:
            return None
        data = json.loads(plain)
        return data if isinstance(data, dict) else None


def _is_taken(conn: Connection, lookup: str) -> bool:
    """Whether an identifier (by its blind index) belongs to an account."""
    return (
        conn.execute(select(identifiers.c.subject_id).where(identifiers.c.lookup == lookup)).first()
        is not None
    )


def _context_words(ident: Identifier) -> tuple[str, ...]:
    """Words of the identifier a password must not be built from."""
    if ident.kind == "email":
        local, _, domain = ident.value.partition("@")
        return (local, domain.split(".")[0])
    return (ident.value.lstrip("+"),)
