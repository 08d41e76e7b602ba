"""
What the gate takes and gives: subjects, events, collect results, records and switch
changes (plain data, no behaviour), and the record ids it mints.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, overload

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


class Event(NamedTuple):
    """One piece of personal data offered to the gate (a named tuple: cheap to make by the
    thousand)."""

    subject_id: str
    service: str
    data_type: str
    purpose: Purpose
    value: Any = None
    blob: bytes | Staged | None = None
    """The record's large content: bytes, or sealed while it arrived (:meth:`Gate.stage_blob`)."""
    source: str | None = None


class EventBatch(Sequence[Event]):
    """
    Events of one service held as columns, one list per field: what the collect route parses
    a request body into. A batch of a thousand events is then a handful of lists, not a
    thousand objects that live (and are traced by the cyclic garbage collector) until the
    batch is answered; ``batch[i]`` makes the :class:`Event` when asked.

    Raises:
        ValueError: the columns are not all of one length.
    """

    __slots__ = ("blobs", "data_types", "purposes", "service", "sources", "subject_ids", "values")

    def __init__(
        self,
        service: str,
        subject_ids: list[str],
        data_types: list[str],
        purposes: list[Purpose],
        values: list[Any],
        blobs: list[bytes | None],
        sources: list[str | None],
    ) -> None:
        size = len(subject_ids)
        if any(len(c) != size for c in (data_types, purposes, values, blobs, sources)):
            raise ValueError("every column of an event batch has one entry per event")
        self.service = service
        self.subject_ids = subject_ids
        self.data_types = data_types
        self.purposes = purposes
        self.values = values
        self.blobs = blobs
        self.sources = sources

    def __len__(self) -> int:
        return len(self.subject_ids)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Event(
            self.subject_ids[index],
            self.service,
            self.data_types[index],
            self.purposes[index],
            self.values[index],
            self.blobs[index],
            self.sources[index],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventBatch):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EventBatch({self.service!r}, {len(self)} events)"


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


class Outcome(NamedTuple):
    """What happened to an event, less its position and record id: one value shared by every
    event of a batch that ended the same way (a batch of a thousand stored events holds a
    handful of these, not a thousand results)."""

    accepted: bool
    reason: str
    message: str
    stored: bool = False
    expires_at: int | None = None


class BatchResult:
    """The outcome of a collect call: one result per event, in order.

    Kept as columns (each event's :class:`Outcome` and record id); :attr:`items` builds the
    :class:`ItemResult` list on first use, so a caller that only counts or serialises the
    outcomes (the collect route) never makes a thousand result objects."""

    __slots__ = ("_items", "outcomes", "record_ids")

    def __init__(
        self,
        items: Iterable[ItemResult] = (),
        *,
        outcomes: list[Outcome] | None = None,
        record_ids: list[str | None] | None = None,
    ) -> None:
        """From the items, or (without items) from the columns, taken as they are."""
        self._items: list[ItemResult] | None = None
        self.outcomes: list[Outcome]
        """Each event's outcome, in order."""
        self.record_ids: list[str | None]
        """Each event's record id (None when nothing was stored), in order."""
        if outcomes is not None or record_ids is not None:
            if items or outcomes is None or record_ids is None:
                raise ValueError("give the items, or the outcomes and the record ids")
            if len(outcomes) != len(record_ids):
                raise ValueError("one record id (or None) per outcome")
            self.outcomes, self.record_ids = outcomes, record_ids
            return
        listed = list(items)
        for position, item in enumerate(listed):
            if item.index != position:
                raise ValueError("a batch's items are in event order, indexed from 0")
        self._items = listed
        self.outcomes = [
            Outcome(i.accepted, i.reason, i.message, i.stored, i.expires_at) for i in listed
        ]
        self.record_ids = [i.record_id for i in listed]

    @property
    def items(self) -> list[ItemResult]:
        """One :class:`ItemResult` per event, in order."""
        if self._items is None:
            self._items = [
                ItemResult(index, o.accepted, o.reason, o.message, rid, o.stored, o.expires_at)
                for index, (o, rid) in enumerate(zip(self.outcomes, self.record_ids, strict=True))
            ]
        return self._items

    @property
    def accepted(self) -> int:
        """How many events were accepted."""
        return sum(1 for o in self.outcomes if o.accepted)

    @property
    def refused(self) -> int:
        """How many events were refused."""
        return len(self.outcomes) - self.accepted

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchResult):
            return NotImplemented
        return self.outcomes == other.outcomes and self.record_ids == other.record_ids

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BatchResult(accepted={self.accepted}, refused={self.refused})"


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
