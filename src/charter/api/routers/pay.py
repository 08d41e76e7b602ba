"""
Mi Pay (``/v1/pay``, India only): cards through the tokenisation vault, unbind, UPI ID and
de-register, card payments and bills, transactions (card numbers only as pseudonyms).

The CVV travels in the body of a payment, goes to the issuing bank in memory and is never
stored, logged or repeated in an answer. See ``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.errors import RefusedError
from charter.services.pay import Card, Transaction

router = APIRouter(prefix="/v1/pay", tags=["pay"])

Token = Annotated[str, Path(pattern=r"^tok_[0-9a-f]{32}$", description="A card token.")]
Binding = Annotated[
    str | None,
    Header(
        alias="X-Device-Binding",
        max_length=64,
        description="The phone's keyed hash of its IMEI and SIM slot (device rule "
        "pay.device_binding); needed once Mi Pay is bound to a phone.",
    ),
]


def _me(principal: AnyPrincipal) -> str:
    if principal.subject_id is None:
        raise RefusedError("Mi Pay acts for a person: call with their token", code="forbidden")
    return principal.subject_id


class CardIn(BaseModel):
    """A card to add: its number and expiry (``MM/YY``); the bank checks both."""

    model_config = ConfigDict(extra="forbid")

    card_number: str = Field(max_length=40)
    valid_to: str = Field(max_length=5)


class CardOut(BaseModel):
    """A tokenised card: the token stands for it; the number is shown masked."""

    token: str
    masked: str
    valid_to: str
    pseudonym: str


class UpiIn(BaseModel):
    """A UPI ID (``name@bank``)."""

    model_config = ConfigDict(extra="forbid")

    upi_id: str = Field(max_length=100)


class UpiOut(BaseModel):
    """The person's UPI ID (null when none)."""

    upi_id: str | None


class DeletedOut(BaseModel):
    """How many records went."""

    deleted: int


class PaymentIn(BaseModel):
    """A card payment to a card (number, pseudonymised in the record) or a UPI ID."""

    model_config = ConfigDict(extra="forbid")

    card_token: str = Field(max_length=40)
    cvv: str = Field(max_length=8, description="Goes to the issuing bank; never stored.")
    amount_paise: int
    payee_card_number: str | None = Field(default=None, max_length=40)
    payee_upi: str | None = Field(default=None, max_length=100)
    remarks: str = Field(default="", max_length=140)


class BillIn(BaseModel):
    """A utility bill paid with a card."""

    model_config = ConfigDict(extra="forbid")

    bill_type: str = Field(max_length=40)
    consumer_number: str = Field(max_length=40)
    card_token: str = Field(max_length=40)
    cvv: str = Field(max_length=8, description="Goes to the issuing bank; never stored.")
    amount_paise: int


class TransactionOut(BaseModel):
    """A transaction: payer and payee cards only as pseudonyms (``cp_...``)."""

    id: str
    kind: str
    payer: str
    payee: str
    amount_paise: int
    remarks: str
    at: int


def _card(c: Card) -> CardOut:
    return CardOut(token=c.token, masked=c.masked, valid_to=c.valid_to, pseudonym=c.pseudonym)


def _tx(t: Transaction) -> TransactionOut:
    return TransactionOut(
        id=t.id,
        kind=t.kind,
        payer=t.payer,
        payee=t.payee,
        amount_paise=t.amount_paise,
        remarks=t.remarks,
        at=t.at,
    )


@router.post("/cards", status_code=201, response_model=CardOut, responses=responses(401, 403, 422))
def add_card(
    body: CardIn, principal: AnyPrincipal, charter: CharterDep, binding: Binding = None
) -> CardOut:
    """Add a card: checked by the bank, stored encrypted, replaced by a token (from the
    bound phone only, once Mi Pay is bound)."""
    me = _me(principal)
    charter.pay.binding.check(me, binding)
    return _card(charter.pay.add_card(me, body.card_number, body.valid_to))


@router.get("/cards", response_model=list[CardOut], responses=responses(401, 403))
def cards(principal: AnyPrincipal, charter: CharterDep) -> list[CardOut]:
    """My cards, masked."""
    return [_card(c) for c in charter.pay.cards(_me(principal))]


@router.delete("/cards/{token}", status_code=204, responses=responses(401, 403, 404))
def unbind(token: Token, principal: AnyPrincipal, charter: CharterDep) -> Response:
    """'Unbind': delete a linked card."""
    charter.pay.unbind(_me(principal), token)
    return Response(status_code=204)


@router.put("/upi", response_model=UpiOut, responses=responses(401, 403, 422))
def set_upi(
    body: UpiIn, principal: AnyPrincipal, charter: CharterDep, binding: Binding = None
) -> UpiOut:
    """Set my UPI ID (from the bound phone only, once Mi Pay is bound)."""
    me = _me(principal)
    charter.pay.binding.check(me, binding)
    return UpiOut(upi_id=charter.pay.register_upi(me, body.upi_id))


class BindingIn(BaseModel):
    """Mi Pay set up on a phone: its keyed hash of IMEI and SIM slot."""

    model_config = ConfigDict(extra="forbid")

    binding: str = Field(pattern=r"^[0-9a-f]{64}$")


@router.put("/binding", status_code=204, responses=responses(401, 403, 422))
def bind(body: BindingIn, principal: AnyPrincipal, charter: CharterDep) -> Response:
    """Bind my Mi Pay to this phone (after verifying its number; replaces an earlier one)."""
    charter.pay.binding.bind(_me(principal), body.binding)
    return Response(status_code=204)


@router.get("/upi", response_model=UpiOut, responses=responses(401, 403))
def get_upi(principal: AnyPrincipal, charter: CharterDep) -> UpiOut:
    """My UPI ID."""
    return UpiOut(upi_id=charter.pay.upi(_me(principal)))


@router.delete("/upi", response_model=DeletedOut, responses=responses(401, 403))
def deregister(principal: AnyPrincipal, charter: CharterDep) -> DeletedOut:
    """'De-register': delete all my Mi Pay data (UPI ID, cards, transactions, bills)."""
    return DeletedOut(deleted=charter.pay.deregister(_me(principal)))


@router.post(
    "/payments",
    status_code=201,
    response_model=TransactionOut,
    responses=responses(401, 403, 404, 422),
)
def pay(body: PaymentIn, principal: AnyPrincipal, charter: CharterDep) -> TransactionOut:
    """Pay with a card; the CVV goes to the bank in memory only."""
    done = charter.pay.pay_card(
        _me(principal),
        card_token=body.card_token,
        cvv=body.cvv,
        amount_paise=body.amount_paise,
        payee_card_number=body.payee_card_number,
        payee_upi=body.payee_upi,
        remarks=body.remarks,
    )
    return _tx(done)


@router.post(
    "/bills",
    status_code=201,
    response_model=TransactionOut,
    responses=responses(401, 403, 404, 422),
)
def pay_bill(body: BillIn, principal: AnyPrincipal, charter: CharterDep) -> TransactionOut:
    """Pay a utility bill (people living in India only)."""
    done = charter.pay.pay_bill(
        _me(principal),
        bill_type=body.bill_type,
        consumer_number=body.consumer_number,
        card_token=body.card_token,
        cvv=body.cvv,
        amount_paise=body.amount_paise,
    )
    return _tx(done)


@router.get("/transactions", response_model=list[TransactionOut], responses=responses(401, 403))
def transactions(principal: AnyPrincipal, charter: CharterDep) -> list[TransactionOut]:
    """My transactions, newest first."""
    return [_tx(t) for t in charter.pay.transactions(_me(principal))]
