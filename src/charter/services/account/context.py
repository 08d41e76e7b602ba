"""
What every account use case shares: :class:`AccountContext`, the small state object the
use cases are built with (the gate, the control database, the token store, the records
helper, the code sender, the hashing gate and the credential ciphers), the account
states and the constants the use cases share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.services.account import keys, passwords
from charter.services.account.records import AccountRecords
from charter.services.account.senders import VerificationSender
from charter.services.account.sessions import Limits, TokenStore

if TYPE_CHECKING:
    from charter.gate import Gate

MICROS = 1_000_000
NO_ACCOUNT = "s_" + "0" * 32
"""A subject id no account has (random ids are never all zeros): decoy queries use it."""
ACTIVE, PENDING, FROZEN, BLOCKED = "active", "pending", "frozen", "blocked"


class AccountContext:
    """The parts of one deployment the account use cases work with (built once, shared)."""

    def __init__(
        self,
        gate: Gate,
        *,
        sender: VerificationSender,
        hashing: passwords.HashingGate,
        limits: Limits,
    ) -> None:
        self.gate = gate
        self.keyring = gate.keyring
        self.clock = gate.clock
        self.sender = sender
        self.hashing = hashing
        self.limits = limits
        self.records = AccountRecords(gate)
        self.tokens = TokenStore(gate.stores.control, gate.keyring, gate.clock)
        self.cipher = keys.CredentialCipher(gate.keyring)
        self.registrations = keys.RegistrationCipher(gate.keyring)
        self.decoy_region = sorted(gate.catalog.regions)[0]
        """The region decoy password lookups (unknown identifiers, locked accounts) read."""

    @property
    def control(self) -> Any:
        """The control database engine."""
        return self.gate.stores.control()
