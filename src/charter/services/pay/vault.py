"""
The tokenisation vault: a card added to Mi Pay is checked by its issuing bank, then becomes
two gate records of service ``pay`` (encrypted at rest with the person's data key, as the
catalog declares): the vault entry (``card_number``: the number, the token the apps get in
its place, and the card's keyed pseudonym) and its expiry (``card_valid_to``, with the same
token). Both are written by one collect: the vault entry, token, pseudonym and audit record
are one transaction of the region's database, one durable commit per card. The pseudonym
(:func:`pseudonym`: HMAC-SHA-256 under the deployment's key from the keyring) is the only form
of a card number a transaction record holds.

Cards tokenised before this layout (a plain number record and a ``pay_cards`` row in the
control database mapping the token to it) are still read, unbound and forgotten.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from charter.crypto.hashing import keyed_hash
from charter.errors import NotFoundError, RefusedError
from charter.gate import Event
from charter.services.pay.bank import (
    SimulatedIssuingBank,
    card_digits,
    expiry_months,
    luhn_ok,
)
from charter.services.pay.tables import cards
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

SERVICE = "pay"
ACTOR = "service:pay"
APP = Purpose.APP_FUNCTIONALITY
PSEUDONYM_CONTEXT = "pay.card_pseudonym"
_CARD_RUN = re.compile(r"(?<![0-9])[0-9][0-9 -]{10,22}[0-9](?![0-9])")


def pseudonym(key: bytes, digits: str) -> str:
    """The keyed pseudonym of a card number (``cp_`` and 128 bits of HMAC-SHA-256)."""
    return "cp_" + keyed_hash(key, digits.encode(), context=PSEUDONYM_CONTEXT).hex()[:32]


def holds_card_number(value: Any) -> bool:
    """True when any string in ``value`` carries a run of digits that is a card number."""
    if isinstance(value, str):
        for run in _CARD_RUN.findall(value):
            digits = re.sub(r"[ -]", "", run)
            if 12 <= len(digits) <= 19 and luhn_ok(digits):
                return True
        return False
    if isinstance(value, dict):
        return any(holds_card_number(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(holds_card_number(v) for v in value)
    return False


def months_now(micros: int) -> int:
    """The current month as months since January 2000."""
    day = datetime.fromtimestamp(micros / 1_000_000, UTC)
    return (day.year - 2000) * 12 + day.month - 1


@dataclass(frozen=True, slots=True)
class Card:
    """A tokenised card as the person sees it."""

    token: str
    masked: str
    valid_to: str
    pseudonym: str
    created_at: int


class Vault:
    """The tokenisation vault of one deployment."""

    def __init__(self, gate: Gate, bank: SimulatedIssuingBank) -> None:
        self.gate = gate
        self.bank = bank
        self.key = gate.keyring.hmac_key

    def add(self, subject_id: str, card_number: str, valid_to: str) -> Card:
        """
        Tokenise a card: the bank checks it, then its vault entry (number, token, pseudonym)
        and expiry are stored encrypted through the gate in one transaction, and the token
        stands for it from now on.

        Raises:
            InputError: a malformed number or expiry (never repeated in the message).
            RefusedError: the bank refused the card, or the gate refused (its reason).
        """
        digits = card_digits(card_number)
        expiry_months(valid_to)
        self.bank.verify_card(digits, valid_to, now_months=months_now(self.gate.clock()))
        token = "tok_" + secrets.token_hex(16)
        alias = pseudonym(self.key, digits)
        result = self.gate.collect(
            [
                Event(
                    subject_id,
                    SERVICE,
                    "card_number",
                    APP,
                    {"token": token, "number": digits, "pseudonym": alias},
                ),
                Event(
                    subject_id,
                    SERVICE,
                    "card_valid_to",
                    APP,
                    {"token": token, "valid_to": valid_to},
                ),
            ],
            actor=ACTOR,
        )
        refused = next((i for i in result.items if not i.accepted), None)
        if refused is not None:
            stored = [i.record_id for i in result.items if i.record_id]
            self.gate.delete_records(
                subject_id, [s for s in stored if s], service=SERVICE, actor=ACTOR, why="refused"
            )
            raise RefusedError(refused.message, code=refused.reason)
        return Card(token, "•••• " + digits[-4:], valid_to, alias, self.gate.clock())

    def _entries(self, subject_id: str) -> dict[str, _Entry]:
        """The person's cards by token, read through the gate (oldest first)."""
        numbers = self._read(subject_id, "card_number")
        expiries = self._read(subject_id, "card_valid_to")
        out: dict[str, _Entry] = {}
        expiry_of = {
            str(r.value["token"]): (str(r.value["valid_to"]), r.id)
            for r in expiries
            if isinstance(r.value, dict)
        }
        for r in numbers:
            if isinstance(r.value, dict):
                token = str(r.value["token"])
                valid_to, valid_record = expiry_of.get(token, ("", ""))
                out[token] = _Entry(
                    str(r.value["number"]),
                    valid_to,
                    str(r.value["pseudonym"]),
                    r.collected_at,
                    (r.id, valid_record) if valid_record else (r.id,),
                )
        if any(not isinstance(r.value, dict) for r in numbers):
            out.update(self._legacy(subject_id, numbers, expiries))
        return dict(sorted(out.items(), key=lambda kv: (kv[1].created_at, kv[0])))

    def _legacy(
        self, subject_id: str, numbers: list[Any], expiries: list[Any]
    ) -> dict[str, _Entry]:
        """Cards added before the vault entry held its token (a ``pay_cards`` row each)."""
        values = {
            r.id: str(r.value) for r in (*numbers, *expiries) if not isinstance(r.value, dict)
        }
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(select(cards).where(cards.c.subject_id == subject_id)).all()
        return {
            r.token: _Entry(
                values.get(r.number_record, "????"),
                values.get(r.valid_to_record, ""),
                r.pseudonym,
                r.created_at,
                (r.number_record, r.valid_to_record),
            )
            for r in rows
        }

    def _read(self, subject_id: str, data_type: str) -> list[Any]:
        return list(
            self.gate.read(
                subject_id, service=SERVICE, purpose=APP, data_type=data_type, actor=ACTOR
            )
        )

    def list(self, subject_id: str) -> list[Card]:
        """The person's cards, masked (read through the gate)."""
        return [
            Card(token, "•••• " + e.number[-4:], e.valid_to, e.pseudonym, e.created_at)
            for token, e in self._entries(subject_id).items()
        ]

    def open(self, subject_id: str, token: str) -> tuple[str, str, str]:
        """
        A card's number, expiry and pseudonym, for a payment (in memory only).

        Raises:
            NotFoundError: no such card of this person.
        """
        found = self._entries(subject_id).get(token)
        if found is None:
            raise NotFoundError("no such card", field="card_token")
        return found.number, found.valid_to, found.pseudonym

    def unbind(self, subject_id: str, token: str) -> None:
        """
        'Unbind': delete a linked card (its gate records, and its token row if it has one).

        Raises:
            NotFoundError: no such card of this person.
        """
        found = self._entries(subject_id).get(token)
        if found is None:
            raise NotFoundError("no such card", field="card_token")
        self.gate.delete_records(
            subject_id, list(found.records), service=SERVICE, actor=ACTOR, why="unbind"
        )
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                delete(cards).where(cards.c.subject_id == subject_id, cards.c.token == token)
            )

    def forget_all(self, subject_id: str) -> int:
        """Delete every token row of cards added before the vault entry held its token (the
        caller deletes the gate records)."""
        with self.gate.stores.control().begin() as conn:
            return int(
                conn.execute(delete(cards).where(cards.c.subject_id == subject_id)).rowcount or 0
            )


@dataclass(frozen=True, slots=True)
class _Entry:
    """One card as the vault reads it back (in memory only)."""

    number: str
    valid_to: str
    pseudonym: str
    created_at: int
    records: tuple[str, ...]
