"""
Mi Pay through HTTP, on SQLite and PostgreSQL: cards through the tokenisation vault, payer
and payee card numbers only as keyed pseudonyms, the CVV to the bank in memory and nowhere in
any file the server wrote, unbind, de-register, bill payment only for people living in India,
the pay service only in India, and the export holding the person's Mi Pay data.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import zipfile
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from charter.app import Charter
from charter.crypto.hashing import keyed_hash
from charter.services.pay import SimulatedIssuingBank, holds_card_number, pseudonym
from charter.services.pay.bank import luhn_ok
from charter.services.pay.tables import cards
from charter.store.schema import records
from charter.testing import FakeClock
from support.content_services import (
    TestClient,
    api_client,
    device,
    person,
    scan_all_written,
    scan_written,
)

ON = ("pay.authorization",)


def card_number(prefix: str = "4") -> str:
    """A random 16-digit number with a valid check digit (unique: a marker)."""
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(14 - len(prefix) + 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


class RecordingBank(SimulatedIssuingBank):
    """The simulated bank, noting in test memory that a CVV reached it."""

    def __init__(self) -> None:
        self.cvvs_seen = 0

    def authorize(
        self, digits: str, valid_to: str, cvv: str, amount_paise: int, *, now_months: int
    ):  # type: ignore[no-untyped-def]
        self.cvvs_seen += 1
        return super().authorize(digits, valid_to, cvv, amount_paise, now_months=now_months)


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    yield from api_client(charter)


def pay_records(charter: Charter, subject_id: str, data_type: str | None = None) -> int:
    region = charter.gate.subject(subject_id).region
    query = (
        select(func.count())
        .select_from(records)
        .where(records.c.subject_id == subject_id, records.c.service == "pay")
    )
    if data_type is not None:
        query = query.where(records.c.data_type == data_type)
    with charter.stores.region(region).connect() as conn:
        return int(conn.execute(query).scalar_one())


def add_card(api: TestClient, headers: dict[str, str], number: str) -> dict[str, str]:
    response = api.post(
        "/v1/pay/cards", json={"card_number": number, "valid_to": "09/29"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_card_is_tokenised_and_its_number_stored_only_encrypted(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    number = card_number()
    card = add_card(api, phone, number)
    assert card["token"].startswith("tok_") and card["masked"] == "•••• " + number[-4:]
    listed = api.get("/v1/pay/cards", headers=phone).json()
    assert [c["token"] for c in listed] == [card["token"]]
    assert number not in json.dumps(listed)
    assert pay_records(charter, subject, "card_number") == 1
    with charter.stores.control().connect() as conn:  # one transaction: no row elsewhere
        assert conn.execute(select(cards).where(cards.c.subject_id == subject)).all() == []
    region = charter.gate.subject(subject).region
    with charter.stores.region(region).connect() as conn:
        stored = conn.execute(
            select(records.c.value).where(
                records.c.subject_id == subject, records.c.service == "pay"
            )
        ).all()
    assert len(stored) == 2
    for (value,) in stored:  # the vault entry and the expiry: ciphertext only
        assert number.encode() not in value and card["token"].encode() not in value
        assert card["pseudonym"].encode() not in value
    _scanned, hits = scan_written(charter, [number])
    assert hits == []


def test_a_malformed_card_is_refused_and_changes_nothing(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    good = card_number()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)  # a wrong check digit
    response = api.post(
        "/v1/pay/cards", json={"card_number": bad, "valid_to": "09/29"}, headers=phone
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "card_number"
    assert bad not in response.text
    assert pay_records(charter, subject) == 0


@pytest.mark.promise("pay.pseudonymized_card_numbers")
def test_transactions_hold_payer_and_payee_cards_only_as_keyed_pseudonyms(
    charter: Charter, api: TestClient, clock: FakeClock
) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    payer, payee = card_number(), card_number("5")
    card = add_card(api, phone, payer)
    for amount in (1500, 2500):
        clock.advance(seconds=60)
        response = api.post(
            "/v1/pay/payments",
            json={
                "card_token": card["token"],
                "cvv": "123",
                "amount_paise": amount,
                "payee_card_number": payee,
                "remarks": "rent",
            },
            headers=phone,
        )
        assert response.status_code == 201, response.text
    listed = api.get("/v1/pay/transactions", headers=phone).json()
    key = charter.keyring.hmac_key
    expected_payee = (
        "cp_" + keyed_hash(key, payee.encode(), context="pay.card_pseudonym").hex()[:32]
    )
    assert {t["payee"] for t in listed} == {expected_payee}
    assert {t["payer"] for t in listed} == {card["pseudonym"]} == {pseudonym(key, payer)}
    assert [t["amount_paise"] for t in listed] == [2500, 1500]
    assert payer not in json.dumps(listed) and payee not in json.dumps(listed)
    # the records themselves, as the gate returns them
    values = charter.gate.read(
        subject,
        service="pay",
        purpose=charter_purpose(),
        data_type="transaction_record",
        actor="test",
    )
    assert len(values) == 2 and not holds_card_number([v.value for v in values])
    # a remark carrying a card number is refused whole: nothing stored
    before = pay_records(charter, subject)
    response = api.post(
        "/v1/pay/payments",
        json={
            "card_token": card["token"],
            "cvv": "123",
            "amount_paise": 100,
            "payee_upi": "shop@okbank",
            "remarks": f"card {payee[:4]} {payee[4:8]} {payee[8:12]} {payee[12:]}",
        },
        headers=phone,
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "remarks"
    assert pay_records(charter, subject) == before
    _scanned, hits = scan_written(charter, [payer, payee])
    assert hits == []


def charter_purpose():  # type: ignore[no-untyped-def]
    from charter.taxonomy import Purpose  # noqa: PLC0415

    return Purpose.APP_FUNCTIONALITY


@pytest.mark.promise("pay.cvv_never_stored")
def test_cvv_reaches_the_bank_in_memory_and_no_file_holds_it(
    charter: Charter, api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    bank = RecordingBank()
    charter.pay.bank = bank
    charter.pay.vault.bank = bank
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    card = add_card(api, phone, card_number())
    cvv = "".join(secrets.choice("123456789") for _ in range(4))
    caplog.set_level(logging.DEBUG)
    paid = api.post(
        "/v1/pay/bills",
        json={
            "bill_type": "electricity",
            "consumer_number": "EL-" + secrets.token_hex(4),
            "card_token": card["token"],
            "cvv": cvv,
            "amount_paise": 45_000,
        },
        headers=phone,
    )
    assert paid.status_code == 201, paid.text
    declined = api.post(
        "/v1/pay/payments",
        json={
            "card_token": card["token"],
            "cvv": "000",
            "amount_paise": 5,
            "payee_upi": "shop@okbank",
        },
        headers=phone,
    )
    assert declined.status_code == 403 and declined.json()["error"]["code"] == "card_declined"
    malformed = api.post(
        "/v1/pay/payments",
        json={
            "card_token": card["token"],
            "cvv": cvv + "x",
            "amount_paise": 5,
            "payee_upi": "shop@okbank",
        },
        headers=phone,
    )
    assert malformed.status_code == 422 and cvv not in malformed.text
    assert bank.cvvs_seen == 3  # it reached the bank each time
    assert cvv not in paid.text and cvv not in caplog.text
    # the gate refuses the type outright, whoever offers it
    key = {"Authorization": "Bearer " + charter.credentials.create_api_key("pay").secret}
    offered = api.post(
        "/v1/collect",
        json={
            "events": [
                {
                    "subject_id": subject,
                    "data_type": "card_cvv",
                    "purpose": "app_functionality",
                    "value": cvv,
                }
            ]
        },
        headers=key,
    ).json()
    assert offered["items"][0]["reason"] == "never_stored"
    # With its key or quoted: a bare ":1234" is also any loopback port another test wrote
    # into the shared PostgreSQL server's WAL.
    forms = [
        f'"{cvv}"',
        f"'{cvv}'",
        f"cvv={cvv}",
        f"cvv: {cvv}",
        f"cvv:{cvv}",
        f'cvv": {cvv}',
        f'cvv":{cvv}',
        'card_cvv":',
        '"cvv"',
    ]
    scanned, hits = scan_all_written(charter, api, phone, forms, caplog.text)
    assert scanned > 0 and hits == []
    # the scanner does see what is stored in plain (the UPI ID is declared plain at rest)
    upi = f"m{secrets.token_hex(6)}@okbank"
    assert api.put("/v1/pay/upi", json={"upi_id": upi}, headers=phone).status_code == 200
    _s, seen = scan_written(charter, [upi])
    assert seen


@pytest.mark.promise("pay.unbind")
def test_unbind_deletes_the_linked_card(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    kept = add_card(api, phone, card_number())
    gone = add_card(api, phone, card_number())
    assert pay_records(charter, subject, "card_number") == 2
    assert api.delete(f"/v1/pay/cards/{gone['token']}", headers=phone).status_code == 204
    assert [c["token"] for c in api.get("/v1/pay/cards", headers=phone).json()] == [kept["token"]]
    assert pay_records(charter, subject, "card_number") == 1
    assert pay_records(charter, subject, "card_valid_to") == 1
    again = api.delete(f"/v1/pay/cards/{gone['token']}", headers=phone)
    assert again.status_code == 404
    paid = api.post(
        "/v1/pay/payments",
        json={
            "card_token": gone["token"],
            "cvv": "123",
            "amount_paise": 5,
            "payee_upi": "shop@okbank",
        },
        headers=phone,
    )
    assert paid.status_code == 404


@pytest.mark.promise("pay.deregister")
def test_deregister_deletes_all_upi_data(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "in", *ON)
    other = person(charter, "in", *ON)
    phone = device(charter, subject)
    assert (
        api.put("/v1/pay/upi", json={"upi_id": "asha.k@okbank"}, headers=phone).status_code == 200
    )
    assert api.put("/v1/pay/upi", json={"upi_id": "asha@okbank"}, headers=phone).json() == {
        "upi_id": "asha@okbank"
    }
    card = add_card(api, phone, card_number())
    api.post(
        "/v1/pay/bills",
        json={
            "bill_type": "water",
            "consumer_number": "W-1234",
            "card_token": card["token"],
            "cvv": "321",
            "amount_paise": 900,
        },
        headers=phone,
    ).raise_for_status()
    api.put(
        "/v1/pay/upi", json={"upi_id": "ravi@okbank"}, headers=device(charter, other)
    ).raise_for_status()
    assert pay_records(charter, subject, "upi_id") == 1
    assert pay_records(charter, subject) == 5
    done = api.delete("/v1/pay/upi", headers=phone)
    assert done.status_code == 200 and done.json() == {"deleted": 5}
    assert pay_records(charter, subject) == 0
    assert api.get("/v1/pay/upi", headers=phone).json() == {"upi_id": None}
    assert api.get("/v1/pay/cards", headers=phone).json() == []
    assert api.get("/v1/pay/transactions", headers=phone).json() == []
    assert pay_records(charter, other) == 1  # another person's data is untouched


@pytest.mark.promise("pay.deregister")
def test_deregister_works_with_the_authorization_switched_off(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    api.put("/v1/pay/upi", json={"upi_id": "asha@okbank"}, headers=phone).raise_for_status()
    add_card(api, phone, card_number())
    held = pay_records(charter, subject)
    assert held >= 2  # the UPI id, the card (and what adding it recorded)
    charter.gate.set_switches(subject, {"pay.authorization": False}, source="user", actor="subject")
    done = api.delete("/v1/pay/upi", headers=phone)
    assert done.status_code == 200 and done.json() == {"deleted": held}
    assert pay_records(charter, subject) == 0


@pytest.mark.promise("pay.bill_payment_markets")
def test_bills_only_for_people_living_in_india(charter: Charter, api: TestClient) -> None:
    spain = person(charter, "es", *ON)
    abroad = device(charter, spain)
    response = api.post(
        "/v1/pay/bills",
        json={
            "bill_type": "gas",
            "consumer_number": "G-5555",
            "card_token": "tok_" + "0" * 32,
            "cvv": "123",
            "amount_paise": 100,
        },
        headers=abroad,
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "market_unavailable"
    assert "India" in error["message"] and "pay.bill_payment_markets" in error["message"]
    assert pay_records(charter, spain) == 0
    # Mi Pay as a whole is offered in India only: adding a card abroad is refused by the gate
    card = api.post(
        "/v1/pay/cards", json={"card_number": card_number(), "valid_to": "09/29"}, headers=abroad
    )
    assert card.status_code == 403 and card.json()["error"]["code"] == "market_unavailable"
    assert pay_records(charter, spain) == 0
    india = person(charter, "in", *ON)
    home = device(charter, india)
    token = add_card(api, home, card_number())["token"]
    paid = api.post(
        "/v1/pay/bills",
        json={
            "bill_type": "gas",
            "consumer_number": "G-5555",
            "card_token": token,
            "cvv": "123",
            "amount_paise": 100,
        },
        headers=home,
    )
    assert paid.status_code == 201 and paid.json()["payee"] == "biller:gas"


@pytest.mark.promise("pay.free_data_copy")
def test_the_export_is_a_free_copy_of_the_mi_pay_data(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    api.put("/v1/pay/upi", json={"upi_id": "asha@okbank"}, headers=phone).raise_for_status()
    card = add_card(api, phone, card_number())
    tx = api.post(
        "/v1/pay/payments",
        json={
            "card_token": card["token"],
            "cvv": "123",
            "amount_paise": 700,
            "payee_upi": "tea@okbank",
        },
        headers=phone,
    ).json()
    made = api.post("/v1/me/exports", headers=phone)
    assert made.status_code == 201
    download = api.get(made.json()["download"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert tx["id"] in text and "asha@okbank" in text and card["pseudonym"] in text


@given(st.text(alphabet="0123456789", min_size=11, max_size=18), st.text(max_size=20))
def test_a_card_number_is_found_in_any_text(body: str, around: str) -> None:
    number = next(body + c for c in "0123456789" if luhn_ok(body + c))
    assert holds_card_number(f"x {number} y") and holds_card_number({"a": [number]})
    assert holds_card_number(around) == holds_card_number(around + " ")


@pytest.mark.promise("pay.card_verified_by_bank")
def test_the_bank_checks_a_card_before_it_is_added(charter: Charter, api: TestClient) -> None:
    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    expired = api.post(
        "/v1/pay/cards", json={"card_number": card_number(), "valid_to": "12/20"}, headers=phone
    )
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "card_expired"
    malformed = api.post(
        "/v1/pay/cards", json={"card_number": card_number(), "valid_to": "13/29"}, headers=phone
    )
    assert malformed.status_code == 422 and malformed.json()["error"]["field"] == "valid_to"
    assert pay_records(charter, subject) == 0
    assert api.get("/v1/pay/cards", headers=phone).json() == []


def test_a_card_tokenised_before_the_one_transaction_vault_still_works(
    charter: Charter, api: TestClient
) -> None:
    """A card stored the earlier way (a plain number record and a ``pay_cards`` row mapping
    the token to it) is still listed, paid with and unbound."""
    from charter.gate import Event  # noqa: PLC0415

    subject = person(charter, "in", *ON)
    phone = device(charter, subject)
    number = card_number()
    result = charter.gate.collect(
        [
            Event(subject, "pay", "card_number", charter_purpose(), number),
            Event(subject, "pay", "card_valid_to", charter_purpose(), "09/29"),
        ],
        actor="test",
    )
    number_record, valid_record = (i.record_id for i in result.items)
    alias = pseudonym(charter.keyring.hmac_key, number)
    with charter.stores.control().begin() as conn:
        conn.execute(
            cards.insert().values(
                subject_id=subject,
                token="tok_" + "0" * 32,
                number_record=number_record,
                valid_to_record=valid_record,
                pseudonym=alias,
                created_at=charter.clock(),
            )
        )
    newer = add_card(api, phone, card_number())
    listed = api.get("/v1/pay/cards", headers=phone).json()
    assert [c["token"] for c in listed] == ["tok_" + "0" * 32, newer["token"]]
    assert listed[0]["masked"] == "•••• " + number[-4:] and listed[0]["pseudonym"] == alias
    paid = api.post(
        "/v1/pay/payments",
        json={
            "card_token": "tok_" + "0" * 32,
            "cvv": "123",
            "amount_paise": 100,
            "payee_upi": "shop@okbank",
        },
        headers=phone,
    )
    assert paid.status_code == 201 and paid.json()["payer"] == alias
    assert api.delete("/v1/pay/cards/tok_" + "0" * 32, headers=phone).status_code == 204
    assert [c["token"] for c in api.get("/v1/pay/cards", headers=phone).json()] == [newer["token"]]
    assert pay_records(charter, subject, "card_number") == 1
    with charter.stores.control().connect() as conn:
        assert conn.execute(select(cards).where(cards.c.subject_id == subject)).all() == []
