"""Mi Pay's server side as a device uses it, over HTTP (India only): cards through the
tokenisation vault, unbind, the UPI ID and de-registration, card payments and bills (the card
verification value goes to the issuing bank and is never stored), and the person's
transactions, whose cards appear only as keyed pseudonyms. See ``docs/browser-video-pay.md``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from charter.client.http import Transport


@dataclass(frozen=True, slots=True)
class Card:
    """A tokenised card: the token stands for it; the number is shown masked."""

    token: str
    masked: str
    valid_to: str
    pseudonym: str


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction: payer and payee cards only as pseudonyms (``cp_...``)."""

    id: str
    kind: str
    payer: str
    payee: str
    amount_paise: int
    remarks: str
    at: int


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _card(data: dict[str, Any]) -> Card:
    return Card(
        str(data["token"]), str(data["masked"]), str(data["valid_to"]), str(data["pseudonym"])
    )


def _tx(data: dict[str, Any]) -> Transaction:
    return Transaction(
        str(data["id"]),
        str(data["kind"]),
        str(data["payer"]),
        str(data["payee"]),
        int(data["amount_paise"]),
        str(data["remarks"]),
        int(data["at"]),
    )


class PayClient:
    """A person's Mi Pay calls (their token); errors are :class:`ApiError`."""

    def __init__(self, base_url: str, token: str, *, transport: Transport | None = None) -> None:
        self.transport = transport or Transport(base_url, token)

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def add_card(self, card_number: str, valid_to: str) -> Card:
        """Add a card: the bank checks it and the vault gives back its token."""
        body = {"card_number": card_number, "valid_to": valid_to}
        return _card(self.transport.request("POST", "/v1/pay/cards", json=body).json())

    def cards(self) -> list[Card]:
        """The person's cards, masked."""
        return [_card(c) for c in self.transport.request("GET", "/v1/pay/cards").json()]

    def unbind(self, token: str) -> None:
        """Delete a linked card."""
        self.transport.request("DELETE", f"/v1/pay/cards/{token}", expect=(204,))

    def set_upi(self, upi_id: str) -> str | None:
        """Register the person's UPI ID."""
        data = self.transport.request("PUT", "/v1/pay/upi", json={"upi_id": upi_id}).json()
        return _text(data["upi_id"])

    def upi(self) -> str | None:
        """The person's UPI ID (``None`` when none)."""
        return _text(self.transport.request("GET", "/v1/pay/upi").json()["upi_id"])

    def deregister(self) -> int:
        """De-register: delete all of the person's UPI data; returns how many records went."""
        return int(self.transport.request("DELETE", "/v1/pay/upi").json()["deleted"])

    def pay(
        self,
        card_token: str,
        cvv: str,
        amount_paise: int,
        *,
        payee_card_number: str | None = None,
        payee_upi: str | None = None,
        remarks: str = "",
    ) -> Transaction:
        """Pay with a card to a card or a UPI ID; the CVV goes to the bank only."""
        body = {
            "card_token": card_token,
            "cvv": cvv,
            "amount_paise": amount_paise,
            "payee_card_number": payee_card_number,
            "payee_upi": payee_upi,
            "remarks": remarks,
        }
        return _tx(self.transport.request("POST", "/v1/pay/payments", json=body).json())

    def pay_bill(
        self, bill_type: str, consumer_number: str, card_token: str, cvv: str, amount_paise: int
    ) -> Transaction:
        """Pay a utility bill (people living in India only)."""
        body = {
            "bill_type": bill_type,
            "consumer_number": consumer_number,
            "card_token": card_token,
            "cvv": cvv,
            "amount_paise": amount_paise,
        }
        return _tx(self.transport.request("POST", "/v1/pay/bills", json=body).json())

    def transactions(self) -> list[Transaction]:
        """The person's transactions, newest first."""
        return [_tx(t) for t in self.transport.request("GET", "/v1/pay/transactions").json()]
