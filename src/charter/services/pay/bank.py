"""
The issuing bank, simulated in-process. It checks a card when it is added (number and
expiry) and authorises a card payment with the card verification value, which it receives
as an argument, compares in memory and drops: neither the bank nor Mi Pay keeps it, logs it
or puts it in an error message (a marker scan of every file the server writes proves it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from charter.errors import InputError, RefusedError

CVV = re.compile(r"^[0-9]{3,4}$")
EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/([0-9]{2})$")
DECLINED_CVV = "000"
"""The simulated bank declines this value (a wrong CVV), so refusals can be tested."""


def luhn_ok(digits: str) -> bool:
    """The Luhn check digit of a card number holds."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def card_digits(number: str) -> str:
    """
    A card number's digits (spaces and dashes dropped).

    Raises:
        InputError: not 12-19 digits with a valid check digit (the message never repeats it).
    """
    digits = re.sub(r"[ -]", "", number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        raise InputError(
            "card_number: 12 to 19 digits with a valid check digit (spaces allowed)",
            field="card_number",
        )
    return digits


def expiry_months(valid_to: str) -> int:
    """
    ``MM/YY`` as months since year 2000.

    Raises:
        InputError: not ``MM/YY``.
    """
    found = EXPIRY.match(valid_to)
    if found is None:
        raise InputError("valid_to: the card's expiry as MM/YY, e.g. 09/29", field="valid_to")
    return int(found.group(2)) * 12 + int(found.group(1)) - 1


@dataclass(frozen=True, slots=True)
class Authorization:
    """The bank's answer to a payment: its reference, never card data."""

    reference: str


class SimulatedIssuingBank:
    """An in-process stand-in for the issuing bank; it keeps nothing of what it is given."""

    def verify_card(self, digits: str, valid_to: str, *, now_months: int) -> None:
        """
        Raises:
            RefusedError: the card has expired (``card_expired``).
        """
        if expiry_months(valid_to) < now_months:
            raise RefusedError("the bank refused the card: it has expired", code="card_expired")

    def authorize(
        self, digits: str, valid_to: str, cvv: str, amount_paise: int, *, now_months: int
    ) -> Authorization:
        """
        Authorise a card payment, checking the CVV in memory.

        Raises:
            InputError: the CVV is not 3 or 4 digits (the message never repeats it).
            RefusedError: the bank declined (``card_declined``) or the card expired.
        """
        if not isinstance(cvv, str) or CVV.match(cvv) is None:
            raise InputError("cvv: the 3 or 4 digits on the card", field="cvv")
        self.verify_card(digits, valid_to, now_months=now_months)
        if cvv == DECLINED_CVV or amount_paise <= 0:
            raise RefusedError(
                "the bank declined the payment; check the card's details and try again",
                code="card_declined",
            )
        return Authorization("bank_" + secrets.token_hex(8))
