"""
Mi Pay (catalog service ``pay``, India only): cards through a tokenisation vault, card
numbers in transaction records only as keyed pseudonyms, the CVV handed to the issuing bank
in memory and never stored, unbind and de-register, bill payment for people living in India.
See ``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from charter.services.pay.bank import SimulatedIssuingBank
from charter.services.pay.service import Pay, Transaction
from charter.services.pay.vault import Card, Vault, holds_card_number, pseudonym

__all__ = [
    "Card",
    "Pay",
    "SimulatedIssuingBank",
    "Transaction",
    "Vault",
    "holds_card_number",
    "pseudonym",
]
