"""
Mi Pay on the device: its binding to this phone (device rule ``pay.device_binding``: "the IMEI
and the SIM slot number secure phone verification, card adding and UPI setup").

Setting Mi Pay up binds it: the device makes a random 256-bit binding key (kept in the owner's
encrypted space, never sent) and sends the server HMAC-SHA-256 of the IMEI and the SIM slot
under it (``PUT /v1/pay/binding``): the server never learns the IMEI, and no other phone can
produce the value. Adding a card and setting up UPI send the binding of the phone as it is now
(header ``X-Device-Binding``); the server refuses another phone, or this phone with the SIM
moved to another slot (``device_binding_mismatch``), until Mi Pay is set up again. A factory
reset destroys the key: the person sets Mi Pay up again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from charter.client import Transport
from charter.device.db import Connection, set_setting, setting
from charter.device.hardware import Hardware
from charter.errors import RefusedError

HEADER = "X-Device-Binding"


class MiPay:
    """Mi Pay's device side: the binding, card adding and UPI setup."""

    def __init__(self, transport: Transport, conn: Connection, hardware: Hardware) -> None:
        self.transport = transport
        self.conn = conn
        self.hardware = hardware

    def binding(self) -> str:
        """
        This phone's binding as it is now (IMEI and the SIM's current slot).

        Raises:
            RefusedError: ``not_set_up``: Mi Pay was not set up on this phone.
        """
        key = setting(self.conn, "pay_binding_key")
        if key is None:
            raise RefusedError("set Mi Pay up on this phone first", code="not_set_up")
        message = f"{self.hardware.imei}|sim_slot={self.hardware.sim_slot}".encode()
        return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()

    def set_up(self) -> None:
        """Set Mi Pay up on this phone (after the phone number is verified): a new binding
        key and the binding sent to the server, replacing any earlier binding.

        Raises:
            ApiError: the server refused (its reason: the market, the switch)."""
        set_setting(self.conn, "pay_binding_key", secrets.token_hex(32))
        self.transport.request(
            "PUT", "/v1/pay/binding", json={"binding": self.binding()}, expect=(204,)
        )

    def add_card(self, card_number: str, valid_to: str) -> dict[str, Any]:
        """Add a card from this phone (the server checks the binding); the tokenised card.

        Raises:
            ApiError: refused (``device_binding_mismatch``, the bank, the market...)."""
        answer = self.transport.request(
            "POST",
            "/v1/pay/cards",
            json={"card_number": card_number, "valid_to": valid_to},
            headers={HEADER: self.binding()},
            expect=(201,),
        )
        return dict(answer.json())

    def set_upi(self, upi_id: str) -> str:
        """Set up UPI from this phone (the server checks the binding).

        Raises:
            ApiError: refused (``device_binding_mismatch``, a malformed ID...)."""
        answer = self.transport.request(
            "PUT", "/v1/pay/upi", json={"upi_id": upi_id}, headers={HEADER: self.binding()}
        )
        return str(answer.json()["upi_id"])
