"""What the sign-in tells and is told: :class:`DeviceInfo` and :class:`LoginOutcome`."""

from __future__ import annotations

from dataclasses import dataclass

from charter.services.account.sessions import TokenPair


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
