"""
Mi Pay's device binding through the device runtime, against a real served server (device rule
``pay.device_binding``): setting Mi Pay up binds it to a keyed hash of this phone's IMEI and
SIM slot (the IMEI never leaves the phone); card adding and UPI setup then work from this
phone only: another phone of the person, this phone with the SIM moved to the other slot, or a
request naming no phone are refused with their reason codes and change nothing, until Mi Pay
is set up again on the phone in hand.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import httpx
import pytest

from charter.app import Charter
from charter.client import ApiError
from charter.device import Device
from charter.device.db import set_setting
from charter.errors import RefusedError
from charter.services.pay.bank import luhn_ok
from charter.taxonomy import Purpose


def card_number() -> str:
    body = "4" + "".join(secrets.choice("0123456789") for _ in range(14))
    return next(body + c for c in "0123456789" if luhn_ok(body + c))


def _indian(charter: Charter) -> str:
    subject = charter.gate.create_subject("account", "in", actor="test").id
    charter.gate.set_switches(subject, {"pay.authorization": True}, source="user", actor="subject")
    return subject


@pytest.mark.promise("pay.device_binding")
def test_cards_and_upi_only_from_the_phone_mi_pay_was_set_up_on(
    charter: Charter, server: str, make_device: Callable[..., Device]
) -> None:
    asha = _indian(charter)
    sent: list[bytes] = []
    client = httpx.Client(
        base_url=server, timeout=30, event_hooks={"request": [lambda r: sent.append(r.content)]}
    )
    phone, tablet = make_device(asha, "asha-phone", http=client), make_device(asha, "asha-tab")
    assert phone.pay is not None and tablet.pay is not None
    phone.pay.set_up()
    card = phone.pay.add_card(card_number(), "09/29")
    assert card["token"].startswith("tok_")
    assert phone.pay.set_upi("asha.k@okbank") == "asha.k@okbank"
    assert not any(phone.hardware.imei.encode() in body for body in sent)  # never sent

    def refused(call: Callable[[], object]) -> str:
        with pytest.raises(ApiError) as info:
            call()
        assert info.value.status == 403, info.value
        return info.value.code

    # Another phone of the same person: it was never set up, then set up with its own key.
    tablet_card = card_number()
    with pytest.raises(RefusedError) as unset:
        tablet.pay.add_card(tablet_card, "09/29")
    assert unset.value.code == "not_set_up"
    # its own key, as if Mi Pay had been set up there once (the server still binds the phone)
    set_setting(tablet.owner.conn, "pay_binding_key", secrets.token_hex(32))
    assert refused(lambda: tablet.pay.add_card(tablet_card, "09/29")) == "device_binding_mismatch"
    assert refused(lambda: tablet.pay.set_upi("thief@okbank")) == "device_binding_mismatch"

    # This phone with its SIM moved to the other slot: refused until set up again.
    phone.hardware.insert_sim(2)
    assert refused(lambda: phone.pay.add_card(card_number(), "09/29")) == (
        "device_binding_mismatch"
    )
    # A request naming no phone at all (e.g. a script with the person's token).
    assert phone.server is not None
    with pytest.raises(ApiError) as bare:
        phone.server.transport.request(
            "POST", "/v1/pay/cards", json={"card_number": card_number(), "valid_to": "09/29"}
        )
    assert bare.value.code == "device_binding_required"
    assert len(charter.pay.cards(asha)) == 1 and charter.pay.upi(asha) == "asha.k@okbank"

    phone.pay.set_up()  # verified again in slot 2: the binding follows
    phone.pay.add_card(card_number(), "09/29")
    assert len(charter.pay.cards(asha)) == 2
    # the server keeps only the keyed hash, one binding at a time, through the gate
    bindings = [
        r.value
        for r in charter.gate.read(
            asha, service="pay", purpose=Purpose.APP_FUNCTIONALITY, data_type="imei",
            actor="test",
        )
    ]  # fmt: skip
    assert len(bindings) == 1 and phone.hardware.imei not in json.dumps(bindings)
    assert bindings[0] == {"binding": phone.pay.binding()}
