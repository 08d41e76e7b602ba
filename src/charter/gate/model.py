"""
What the gate takes and gives: subjects, events, collect results, records and switch
changes (plain data, no behaviour), and the record ids it mints.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from charter.policy import PURPOSE_BITS, SubjectKind
from charter.taxonomy import Purpose

MAX_BATCH = 10_000
"""Events one collect call may offer."""

ACTIVE = "active"
"""The status of a subject that may collect and be read."""


@dataclass(frozen=True, slots=True)
class Subject:
    """A data subject as the gate knows it (no personal data)."""

    id: str
    kind: SubjectKind
    market: str
    region: str
    status: str


class Staged(Protocol):
    """A blob sealed into its file while it arrived, for a record yet to be collected
    (:class:`charter.gate.blobs.StagedBlob`, from :meth:`Gate.stage_blob`)."""

    @property
    def record_id(self) -> str:
        """The id of the record it is sealed for (its file is named after it)."""
        ...


@dataclass(frozen=True, slots=True)
class Event:
    """One piece of personal data offered to the gate."""

    subject_id: str
    service: str
    data_type: str
    purpose: Purpose
    value: Any = None
    blob: bytes | Staged | None = None
    """The record's large content: bytes, or sealed while it arrived (:meth:`Gate.stage_blob`)."""
    source: str | None = None


@dataclass(frozen=True, slots=True)
class PasswordHash:
    """
    A password already hashed by the account service (an argon2id string over the peppered
    password, as :func:`charter.gate.protect.peppered_password` prepares it): offered as an
    event's value for a ``password_hash`` row, the gate stores it as is instead of hashing
    again. Only an argon2id string is accepted.
    """

    encoded: str

    def __repr__(self) -> str:
        return "PasswordHash(***)"


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one event of a batch."""

    index: int
    accepted: bool
    reason: str
    message: str
    record_id: str | None = None
    stored: bool = False
    expires_at: int | None = None


@dataclass
class BatchResult:
    """The outcome of a collect call: one result per event, in order."""

    items: list[ItemResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """How many events were accepted."""
        return sum(1 for i in self.items if i.accepted)

    @property
    def refused(self) -> int:
        """How many events were refused."""
        return len(self.items) - self.accepted


@dataclass(frozen=True, slots=True)
class RecordOut:
    """A record as a reader receives it."""

    id: str
    service: str
    data_type: str
    qualifier: str
    purposes: tuple[str, ...]
    value: Any
    has_blob: bool
    source: str | None
    collected_at: int
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class SwitchChange:
    """One entry of a subject's switch history."""

    key: str
    value: bool
    changed_at: int
    source: str
    actor: str


def new_id(prefix: str = "") -> str:
    """A random 128-bit identifier, hex encoded."""
    return prefix + secrets.token_hex(16)


def purposes_of(bits: int) -> tuple[str, ...]:
    """The purpose ids in a purpose bit set."""
    return tuple(p.value for p, bit in PURPOSE_BITS.items() if bits & bit)
