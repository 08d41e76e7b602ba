"""
:class:`Pay`: Mi Pay's server side (offered in India only).

- **Cards** go through the tokenisation vault (:mod:`.vault`).
- **UPI**: one UPI ID per person (:meth:`Pay.register_upi`); 'De-register'
  (:meth:`Pay.deregister`) deletes all of the person's Mi Pay data: UPI ID, cards,
  transactions and bill consumer numbers.
- **Payments**: a card payment hands the CVV to the issuing bank in memory
  (:mod:`.bank`); it is never stored, logged or echoed. The transaction record (a gate
  record) names payer and payee cards only by their keyed pseudonyms, and a record whose
  text carries a card number is refused (promise ``pay.pseudonymized_card_numbers``).
- **Bills**: only for people living in the markets of the catalog's
  ``bill_payment_markets`` rule; the consumer number is a gate record of its bill type.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from charter.errors import InputError, RefusedError
from charter.gate import Event, Gate
from charter.gate.erasure import erase_records
from charter.services.pay.bank import SimulatedIssuingBank, card_digits
from charter.services.pay.binding import DeviceBinding
from charter.services.pay.vault import (
    ACTOR,
    APP,
    SERVICE,
    Card,
    Vault,
    holds_card_number,
    months_now,
    pseudonym,
)

UPI = re.compile(r"^[a-z0-9._-]{2,64}@[a-z]{2,32}$")
CONSUMER = re.compile(r"^[A-Za-z0-9-]{4,30}$")
MAX_PAISE = 10_000_000_00
SUFFIX = "_consumer_number"


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction as its record holds it: card numbers only as pseudonyms."""

    id: str
    kind: str
    payer: str
    payee: str
    amount_paise: int
    remarks: str
    at: int


def _transaction(value: Any) -> Transaction:
    return Transaction(
        str(value["id"]),
        str(value["kind"]),
        str(value["payer"]),
        str(value["payee"]),
        int(value["amount_paise"]),
        str(value.get("remarks", "")),
        int(value["at"]),
    )


class Pay:
    """Mi Pay of one deployment."""

    def __init__(self, gate: Gate, *, bank: SimulatedIssuingBank | None = None) -> None:
        self.gate = gate
        self.bank = bank or SimulatedIssuingBank()
        self.vault = Vault(gate, self.bank)
        self.binding = DeviceBinding(gate)
        """The phone Mi Pay is bound to (:mod:`.binding`, device rule ``pay.device_binding``)."""
        self.bill_types = tuple(
            r.type.removesuffix(SUFFIX)
            for r in gate.catalog.services[SERVICE].inventory
            if r.type.endswith(SUFFIX)
        )

    # -- cards -----------------------------------------------------------------------------

    def add_card(self, subject_id: str, card_number: str, valid_to: str) -> Card:
        """Tokenise a card (see :meth:`Vault.add`)."""
        return self.vault.add(subject_id, card_number, valid_to)

    def cards(self, subject_id: str) -> list[Card]:
        """The person's cards, masked."""
        return self.vault.list(subject_id)

    def unbind(self, subject_id: str, token: str) -> None:
        """'Unbind': delete a linked card (see :meth:`Vault.unbind`)."""
        self.vault.unbind(subject_id, token)

    # -- UPI -------------------------------------------------------------------------------

    def register_upi(self, subject_id: str, upi_id: str) -> str:
        """
        Set the person's UPI ID (replacing an earlier one).

        Raises:
            InputError: not a UPI ID (``name@bank``).
            RefusedError: the gate refused (its reason, e.g. not offered in the market).
        """
        if not UPI.match(upi_id):
            raise InputError("upi_id: name@bank in lower case, e.g. asha.k@okbank", field="upi_id")
        old = [r.id for r in self._records(subject_id, "upi_id")]
        self._store(subject_id, [Event(subject_id, SERVICE, "upi_id", APP, upi_id)])
        self.gate.delete_records(subject_id, old, service=SERVICE, actor=ACTOR, why="replaced")
        return upi_id

    def upi(self, subject_id: str) -> str | None:
        """The person's UPI ID, if any."""
        found = self._records(subject_id, "upi_id")
        return str(found[-1].value) if found else None

    def deregister(self, subject_id: str) -> int:
        """'De-register': delete all of the person's Mi Pay data; returns how many records.
        It reads nothing first, so it works with Mi Pay's authorization switched off too."""
        count = sum(erase_records(self.gate, subject_id, actor=ACTOR, service=SERVICE).values())
        self.vault.forget_all(subject_id)
        return count

    # -- payments --------------------------------------------------------------------------

    def pay_card(
        self,
        subject_id: str,
        *,
        card_token: str,
        cvv: str,
        amount_paise: int,
        payee_card_number: str | None = None,
        payee_upi: str | None = None,
        remarks: str = "",
    ) -> Transaction:
        """
        Pay with a card: the bank gets the number, expiry and CVV in memory; the record
        keeps pseudonyms.

        Raises:
            InputError: a malformed amount, payee or remarks.
            NotFoundError: no such card.
            RefusedError: the bank declined, or the gate refused.
        """
        if (payee_card_number is None) == (payee_upi is None):
            raise InputError("name one payee: payee_card_number or payee_upi", field="payee")
        if payee_card_number is not None:
            payee = pseudonym(self.vault.key, card_digits(payee_card_number))
        else:
            if not UPI.match(payee_upi or ""):
                raise InputError("payee_upi: name@bank", field="payee_upi")
            payee = str(payee_upi)
        return self._charge(subject_id, card_token, cvv, amount_paise, payee, "card", remarks, [])

    def pay_bill(
        self,
        subject_id: str,
        *,
        bill_type: str,
        consumer_number: str,
        card_token: str,
        cvv: str,
        amount_paise: int,
    ) -> Transaction:
        """
        Pay a utility bill with a card.

        Raises:
            RefusedError: the person does not live where bills may be paid
                (``market_unavailable``, promise ``pay.bill_payment_markets``), the bank
                declined, or the gate refused.
            InputError: unknown bill type or a malformed consumer number.
        """
        self.check_bill_market(subject_id)
        if bill_type not in self.bill_types:
            raise InputError(f"bill_type: one of {', '.join(self.bill_types)}", field="bill_type")
        if not CONSUMER.match(consumer_number):
            raise InputError(
                "consumer_number: 4-30 letters, digits or dashes as printed on the bill",
                field="consumer_number",
            )
        extra = [Event(subject_id, SERVICE, bill_type + SUFFIX, APP, consumer_number)]
        return self._charge(
            subject_id, card_token, cvv, amount_paise, "biller:" + bill_type, "bill", "", extra
        )

    def offered_in(self, market: str) -> bool:
        """Mi Pay is offered in ``market`` (the catalog's markets of the service)."""
        compiled = self.gate.compiled
        allowed = compiled.markets_by_service.get(SERVICE)
        excluded = compiled.excluded_by_service.get(SERVICE, frozenset())
        return market not in excluded and (allowed is None or market in allowed)

    def bill_markets(self) -> frozenset[str]:
        """The markets of the catalog's ``bill_payment_markets`` rule."""
        for rule in self.gate.catalog.services[SERVICE].rules:
            if rule.id == "bill_payment_markets" and rule.gate and rule.gate.markets:
                only = rule.gate.markets.only
                return frozenset(only) if isinstance(only, tuple) else frozenset()
        return frozenset()

    def check_bill_market(self, subject_id: str) -> None:
        """
        Raises:
            RefusedError: the person does not live in a market where bills may be paid.
        """
        allowed = self.bill_markets()
        if self.gate.subject(subject_id).market not in allowed:
            names = ", ".join(sorted(self.gate.catalog.markets[m].name for m in allowed))
            raise RefusedError(
                f"utility bills can be paid only by people living in {names} "
                "(promise pay.bill_payment_markets)",
                code="market_unavailable",
            )

    def transactions(self, subject_id: str) -> list[Transaction]:
        """The person's transactions, newest first."""
        found = [_transaction(r.value) for r in self._records(subject_id, "transaction_record")]
        return sorted(found, key=lambda t: (t.at, t.id), reverse=True)

    # -- parts -----------------------------------------------------------------------------

    def _charge(
        self,
        subject_id: str,
        card_token: str,
        cvv: str,
        amount_paise: int,
        payee: str,
        kind: str,
        remarks: str,
        extra: list[Event],
    ) -> Transaction:
        if not isinstance(amount_paise, int) or not 1 <= amount_paise <= MAX_PAISE:
            raise InputError("amount_paise: 1 to 1,000,000,000 paise", field="amount_paise")
        if len(remarks) > 140:
            raise InputError("remarks: at most 140 characters", field="remarks")
        if holds_card_number(remarks):
            raise InputError(
                "remarks may not carry a card number: transaction records hold card numbers "
                "only as pseudonyms (promise pay.pseudonymized_card_numbers)",
                field="remarks",
            )
        digits, valid_to, payer = self.vault.open(subject_id, card_token)
        now = self.gate.clock()
        self.bank.authorize(digits, valid_to, cvv, amount_paise, now_months=months_now(now))
        value = {
            "id": "tx_" + secrets.token_hex(12),
            "kind": kind,
            "payer": payer,
            "payee": payee,
            "amount_paise": amount_paise,
            "remarks": remarks,
            "at": now,
        }
        if holds_card_number(value):  # the promise, checked on the record itself
            raise RefusedError(
                "a transaction record may hold card numbers only as pseudonyms",
                code="card_number_in_record",
            )
        self._store(
            subject_id,
            [*extra, Event(subject_id, SERVICE, "transaction_record", APP, value)],
        )
        return _transaction(value)

    def _store(self, subject_id: str, events: list[Event]) -> list[str]:
        result = self.gate.collect(events, actor=ACTOR)
        refused = next((i for i in result.items if not i.accepted), None)
        stored = [i.record_id for i in result.items if i.record_id]
        if refused is not None:
            self.gate.delete_records(
                subject_id, [s for s in stored if s], service=SERVICE, actor=ACTOR, why="refused"
            )
            raise RefusedError(refused.message, code=refused.reason)
        return [s for s in stored if s]

    def _records(self, subject_id: str, data_type: str | None) -> list[Any]:
        found = self.gate.read(
            subject_id, service=SERVICE, purpose=APP, data_type=data_type, actor=ACTOR
        )
        return sorted(found, key=lambda r: (r.collected_at, r.id))
