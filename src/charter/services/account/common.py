"""
Helpers the account use cases share: the fresh-session check, checking and storing a
password, and the gate data type of an identifier.
"""

from __future__ import annotations

from charter.services.account import passwords
from charter.services.account.context import MICROS, AccountContext
from charter.services.account.errors import StepUpRequiredError
from charter.services.account.identifiers import Identifier
from charter.services.account.sessions import SessionInfo

FRESH_AUTH_SECONDS = 600


def require_fresh(context: AccountContext, session: SessionInfo) -> None:
    """
    Raises:
        StepUpRequiredError: the session's last authentication is older than 10 minutes.
    """
    if context.clock() - session.auth_time > FRESH_AUTH_SECONDS * MICROS:
        raise StepUpRequiredError(
            "confirm your password (POST /v1/account/reauth) first", code="step_up_required"
        )


def password_matches(context: AccountContext, subject_id: str, password: str) -> bool:
    """Whether ``password`` is the account's (one argon2 verification, admission-controlled)."""
    with context.hashing:
        stored = context.records.password_hash(subject_id)
        return (
            stored is not None
            and passwords.verify(
                context.gate.passwords.hasher, stored, password, context.keyring.pepper
            ).ok
        )


def store_password(context: AccountContext, subject_id: str, password: str, *, why: str) -> None:
    """Replace the account's password record (hashed by the gate, admission-controlled)."""
    with context.hashing:
        context.records.replace(subject_id, "account_password", password, why=why)


def record_type(ident: Identifier) -> str:
    """The gate data type of an identifier: ``email_address`` or ``phone_number``."""
    return "email_address" if ident.kind == "email" else "phone_number"
