"""
The account service (seed 4.3, SPEC S2): registration, sign-in with the login environment
check and step-up, 2-step verification, sessions, devices, profile and help-centre actions.

See ``docs/account.md``.
"""

from __future__ import annotations

from charter.services.account.errors import BusyError, StepUpRequiredError, ThrottledError
from charter.services.account.identifiers import (
    Identifier,
    normalise_email,
    normalise_phone,
    parse_identifier,
)
from charter.services.account.passwords import FAST_FOR_TESTS, PRODUCTION, Argon2Params, HashingGate
from charter.services.account.senders import (
    FileSender,
    MemorySender,
    NullSender,
    VerificationSender,
)
from charter.services.account.service import AccountService, DeviceInfo, LoginOutcome
from charter.services.account.sessions import SessionInfo, TokenPair

__all__ = [
    "FAST_FOR_TESTS",
    "PRODUCTION",
    "AccountService",
    "Argon2Params",
    "BusyError",
    "DeviceInfo",
    "FileSender",
    "HashingGate",
    "Identifier",
    "LoginOutcome",
    "MemorySender",
    "NullSender",
    "SessionInfo",
    "StepUpRequiredError",
    "ThrottledError",
    "TokenPair",
    "VerificationSender",
    "normalise_email",
    "normalise_phone",
    "parse_identifier",
]
