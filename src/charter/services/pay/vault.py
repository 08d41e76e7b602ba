"""
The tokenisation vault: a card added to Mi Pay is checked by its issuing bank, then its
number and expiry become gate records of service ``pay`` (encrypted at rest with the person's
data key, as the catalog declares) and the apps get a token (``tok_...``) in their place.
Every card also gets a keyed pseudonym (:func:`pseudonym`: HMAC-SHA-256 under the
deployment's key from the keyring), the only form of its number a transaction record holds.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

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
        Tokenise a card: the bank checks it, its number and expiry are stored encrypted
        through the gate, and a token stands for it from now on.

        Raises:
            InputError: a malformed number or expiry (never repeated in the message).
            RefusedError: the bank refused the card, or the gate refused (its reason).
        """
        digits = card_digits(card_number)
        expiry_months(valid_to)
        self.bank.verify_card(digits, valid_to, now_months=months_now(self.gate.clock()))
        result = self.gate.collect(
            [
                Event(subject_id, SERVICE, "card_number", APP, digits),
                Event(subject_id, SERVICE, "card_valid_to", APP, valid_to),
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
        number_record = result.items[0].record_id or ""
        valid_record = result.items[1].record_id or ""
        token = "tok_" + secrets.token_hex(16)
        now = self.gate.clock()
        alias = pseudonym(self.key, digits)
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                insert(cards).values(
                    subject_id=subject_id,
                    token=token,
                    number_record=number_record,
                    valid_to_record=valid_record,
                    pseudonym=alias,
                    created_at=now,
                )
            )
        return Card(token, "•••• " + digits[-4:], valid_to, alias, now)

    def _rows(self, subject_id: str) -> list[Any]:
        with self.gate.stores.control().connect() as conn:
            return list(
                conn.execute(
                    select(cards)
                    .where(cards.c.subject_id == subject_id)
                    .order_by(cards.c.created_at)
                )
            )

    def _values(self, subject_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for data_type in ("card_number", "card_valid_to"):
            for r in self.gate.read(
                subject_id, service=SERVICE, purpose=APP, data_type=data_type, actor=ACTOR
            ):
                out[r.id] = str(r.value)
        return out

    def list(self, subject_id: str) -> list[Card]:
        """The person's cards, masked (read through the gate)."""
        rows = self._rows(subject_id)
        if not rows:
            return []
        values = self._values(subject_id)
        return [
            Card(
                r.token,
                "•••• " + values.get(r.number_record, "????")[-4:],
                values.get(r.valid_to_record, ""),
                r.pseudonym,
                r.created_at,
            )
            for r in rows
        ]

    def open(self, subject_id: str, token: str) -> tuple[str, str, str]:
        """
        A card's number, expiry and pseudonym, for a payment (in memory only).

        Raises:
            NotFoundError: no such card of this person.
        """
        row = next((r for r in self._rows(subject_id) if r.token == token), None)
        if row is None:
            raise NotFoundError("no such card", field="card_token")
        values = self._values(subject_id)
        return values[row.number_record], values[row.valid_to_record], row.pseudonym

    def unbind(self, subject_id: str, token: str) -> None:
        """
        'Unbind': delete a linked card (its gate records and its token).

        Raises:
            NotFoundError: no such card of this person.
        """
        row = next((r for r in self._rows(subject_id) if r.token == token), None)
        if row is None:
            raise NotFoundError("no such card", field="card_token")
        self.gate.delete_records(
            subject_id,
            [row.number_record, row.valid_to_record],
            service=SERVICE,
            actor=ACTOR,
            why="unbind",
        )
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                delete(cards).where(cards.c.subject_id == subject_id, cards.c.token == token)
            )

    def forget_all(self, subject_id: str) -> int:
        """Delete every card's token row (the caller deletes the gate records)."""
        with self.gate.stores.control().begin() as conn:
            return int(
                conn.execute(delete(cards).where(cards.c.subject_id == subject_id)).rowcount or 0
            )
