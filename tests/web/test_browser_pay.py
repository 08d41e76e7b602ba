"""
Mi Pay in a real browser (Debian's chromium, Playwright), at desktop and 375 px, with
axe-core inside the page: a person living in India allows Mi Pay, adds a card, pays a bill
(the CVV goes to the bank and nowhere else), sees the transaction with the card's pseudonym
and never its number, and de-registers; a person in Spain is told Mi Pay is for India.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, check_page, sign_in
from web_support import Deployment

from charter.services.pay.bank import luhn_ok
from support.content_services import scan_written

pytestmark = BROWSER_MARKS

PASSWORD = "monsoon kettles whistle at dawn"


def card_number() -> str:
    body = "4" + "".join(secrets.choice("0123456789") for _ in range(14))
    return next(body + c for c in "0123456789" if luhn_ok(body + c))


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(375, id="375px")])
def test_person_in_india_adds_a_card_pays_a_bill_and_deregisters(
    served: tuple[Deployment, str], browser: Any, width: int
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    email = f"asha.{secrets.token_hex(3)}@example.in"
    subject = deployment.charter.accounts.create(email, PASSWORD, "in")
    number, cvv = card_number(), "".join(secrets.choice("123456789") for _ in range(4))
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, deployment, url, email, PASSWORD)
    page.goto(url + "/pay")
    expect(page.get_by_role("heading", name="Mi Pay", level=1)).to_be_visible()
    page.get_by_role("button", name="Allow Mi Pay").click()
    expect(page.get_by_role("status")).to_contain_text("Mi Pay is allowed")

    page.get_by_label("Card number").fill(number)
    page.get_by_label("Valid to (MM/YY)").fill("09/29")
    page.get_by_role("button", name="Add card").click()
    expect(page.get_by_role("status")).to_contain_text(f"Card •••• {number[-4:]} added")
    check_page(page, "pay")

    page.get_by_label("Bill type").select_option("electricity")
    page.get_by_label("Consumer number").fill("EL-20261204")
    page.get_by_label("Amount (₹)").fill("450.50")
    page.get_by_label("CVV (sent to your bank, never kept)").fill(cvv)
    page.get_by_role("button", name="Pay bill").click()
    expect(page.get_by_role("status")).to_contain_text("Bill paid: ₹450.50")
    pseudonym = deployment.charter.pay.cards(subject)[0].pseudonym
    row = page.get_by_role("row").filter(has_text="₹450.50")
    expect(row).to_contain_text(pseudonym)
    expect(row).to_contain_text("biller:electricity")
    assert number not in page.content() and cvv not in page.content()
    _scanned, hits = scan_written(deployment.charter, [number, f'"{cvv}"', f"={cvv}"])
    assert hits == []

    page.get_by_label("Delete all my Mi Pay data").check()
    page.get_by_role("button", name="De-register").click()
    expect(page.get_by_role("status")).to_contain_text("De-registered")
    expect(page.get_by_text("No transactions yet.")).to_be_visible()
    expect(page.get_by_text("No cards yet.")).to_be_visible()
    assert deployment.charter.pay.transactions(subject) == []


def test_person_in_spain_is_told_mi_pay_is_for_india(
    served: tuple[Deployment, str], browser: Any
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    deployment, url = served
    email = f"lucia.{secrets.token_hex(3)}@example.es"
    deployment.charter.accounts.create(email, PASSWORD, "es")
    page = browser.new_page()
    sign_in(page, deployment, url, email, PASSWORD)
    page.goto(url + "/pay")
    expect(page.get_by_text("Mi Pay is offered only to people living in India.")).to_be_visible()
    expect(page.get_by_role("button", name="Pay bill")).to_have_count(0)
