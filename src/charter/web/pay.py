"""
Mi Pay (India only): allow the service, my UPI ID, my cards (added through the tokenisation
vault, shown masked, 'Unbind'), pay a utility bill (the CVV goes to the bank in memory), my
transactions (card numbers only as pseudonyms) and 'De-register'.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError
from charter.web._routing import WebRoute
from charter.web.deps import (
    User,
    csrf_protect,
    current_user,
    redirect,
    render,
    services,
    web_session,
)

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]
Field40 = Annotated[str, Form(max_length=40)]


def _paise(rupees: str) -> int:
    text = rupees.strip().replace(",", "")
    try:
        value = round(float(text) * 100)
    except ValueError:
        raise InputError("amount: rupees, e.g. 450 or 450.50", field="amount") from None
    return value


@router.get("/pay", include_in_schema=False)
def my_pay(request: Request, user: Me) -> Response:
    """Mi Pay: cards, UPI ID, bills, transactions."""
    charter = services(request).charter
    subject = user.subject_id
    market = charter.gate.subject(subject).market
    offered = charter.pay.offered_in(market)
    allowed = bool(charter.gate.switches(subject).get("pay.authorization"))
    context: dict[str, object] = {"title": "Mi Pay", "offered": offered, "allowed": allowed}
    if offered and allowed:
        context.update(
            upi=charter.pay.upi(subject),
            cards=charter.pay.cards(subject),
            transactions=charter.pay.transactions(subject),
            bill_types=charter.pay.bill_types,
        )
    return render(request, "pay.html", context)


@router.post("/pay/allow", include_in_schema=False)
def allow(request: Request, user: Me) -> Response:
    """Allow Mi Pay (the service's authorization)."""
    services(request).charter.gate.set_switches(
        user.subject_id, {"pay.authorization": True}, source="user", actor="subject"
    )
    web_session(request).say("Mi Pay is allowed.", "success")
    return redirect("/pay")


@router.post("/pay/upi", include_in_schema=False)
def set_upi(request: Request, user: Me, upi_id: Annotated[str, Form(max_length=100)]) -> Response:
    """Set my UPI ID."""
    pay = services(request).charter.pay
    pay.binding.check(user.subject_id, None)  # bound to a phone: set UPI up from the phone
    pay.register_upi(user.subject_id, upi_id.strip())
    web_session(request).say("UPI ID saved.", "success")
    return redirect("/pay")


@router.post("/pay/cards", include_in_schema=False)
def add_card(request: Request, user: Me, card_number: Field40, valid_to: Field40) -> Response:
    """Add a card: the bank checks it, it is stored encrypted and replaced by a token."""
    pay = services(request).charter.pay
    pay.binding.check(user.subject_id, None)  # bound to a phone: add cards from the phone
    card = pay.add_card(user.subject_id, card_number, valid_to.strip())
    web_session(request).say(f"Card {card.masked} added.", "success")
    return redirect("/pay")


@router.post("/pay/cards/{token}/unbind", include_in_schema=False)
def unbind(request: Request, user: Me, token: str) -> Response:
    """'Unbind': delete a linked card."""
    services(request).charter.pay.unbind(user.subject_id, token)
    web_session(request).say("Card removed.", "success")
    return redirect("/pay")


@router.post("/pay/bills", include_in_schema=False)
def pay_bill(
    request: Request,
    user: Me,
    bill_type: Field40,
    consumer_number: Field40,
    card_token: Field40,
    cvv: Annotated[str, Form(max_length=8)],
    amount: Annotated[str, Form(max_length=20)],
) -> Response:
    """Pay a utility bill with a card; the CVV goes to the bank and is not kept."""
    done = services(request).charter.pay.pay_bill(
        user.subject_id,
        bill_type=bill_type,
        consumer_number=consumer_number.strip(),
        card_token=card_token,
        cvv=cvv,
        amount_paise=_paise(amount),
    )
    web_session(request).say(f"Bill paid: ₹{done.amount_paise / 100:.2f}.", "success")
    return redirect("/pay#transactions")


@router.post("/pay/deregister", include_in_schema=False)
def deregister(
    request: Request, user: Me, confirm: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """'De-register': delete all my Mi Pay data."""
    if confirm != "yes":
        raise InputError("tick the box to confirm that all your Mi Pay data goes", field="confirm")
    n = services(request).charter.pay.deregister(user.subject_id)
    web_session(request).say(f"De-registered: {n} Mi Pay records deleted.", "success")
    return redirect("/pay")
