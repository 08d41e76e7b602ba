"""
Mi Pay's device binding (the server side of the device rule ``pay.device_binding``): "the IMEI
and the SIM slot number secure phone verification, card adding and UPI setup".

When Mi Pay is set up on a phone, the phone sends a keyed hash of its IMEI and the SIM slot
of the verified number (HMAC-SHA-256 under a key that never leaves the phone, so the server
never learns the IMEI and no other phone can produce the value). The server keeps it as the
person's ``imei`` record of Mi Pay (through the gate: India only, the service's switch, the
person's data key). From then on, adding a card or setting up UPI must come with the same
binding (header ``X-Device-Binding``): none is refused ``device_binding_required``, another
``device_binding_mismatch``. Setting Mi Pay up again (a new phone, the SIM moved to another
slot, a factory reset) replaces the binding. A person with no binding (no phone set up) is
not checked. De-register deletes the binding with every other Mi Pay record.
"""

from __future__ import annotations

import hmac
import re

from charter.errors import InputError, RefusedError
from charter.gate import Event, Gate
from charter.services.pay.vault import ACTOR, APP, SERVICE

BINDING = re.compile(r"^[0-9a-f]{64}$")
HEADER = "X-Device-Binding"
DATA_TYPE = "imei"


class DeviceBinding:
    """The phone each person's Mi Pay is bound to (a keyed hash of IMEI and SIM slot)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def _current(self, subject_id: str) -> list[tuple[str, str]]:
        found = self.gate.read(
            subject_id, service=SERVICE, purpose=APP, data_type=DATA_TYPE, actor=ACTOR
        )
        return [
            (r.id, str(r.value.get("binding", "")) if isinstance(r.value, dict) else "")
            for r in sorted(found, key=lambda r: (r.collected_at, r.id))
        ]

    def bind(self, subject_id: str, binding: str) -> None:
        """
        Bind the person's Mi Pay to the phone that sent ``binding`` (replacing any earlier).

        Raises:
            InputError: not a 64-hex-digit keyed hash.
            RefusedError: the gate refused (its reason: the market, the switch).
        """
        if not BINDING.match(binding):
            raise InputError(
                "binding is the phone's keyed hash of its IMEI and SIM slot: 64 hex digits",
                field="binding",
            )
        old = [rid for rid, _v in self._current(subject_id)]
        result = self.gate.collect(
            [Event(subject_id, SERVICE, DATA_TYPE, APP, {"binding": binding})], actor=ACTOR
        )
        item = result.items[0]
        if not item.accepted:
            raise RefusedError(item.message, code=item.reason)
        if old:
            self.gate.delete_records(
                subject_id, old, service=SERVICE, actor=ACTOR, why="device binding replaced"
            )

    def check(self, subject_id: str, presented: str | None) -> None:
        """
        Let a card adding or UPI setup through only from the bound phone.

        Raises:
            RefusedError: ``device_binding_required`` (Mi Pay is bound to a phone and the
                request names none), ``device_binding_mismatch`` (another phone, or the SIM
                in another slot: set Mi Pay up again on this phone).
        """
        current = self._current(subject_id)
        if not current:
            return
        if not presented:
            raise RefusedError(
                "Mi Pay is bound to a phone: add cards and set up UPI from it",
                code="device_binding_required",
            )
        if not hmac.compare_digest(current[-1][1].encode(), presented.encode()):
            raise RefusedError(
                "this phone (or its SIM slot) is not the one Mi Pay was set up on; "
                "verify the phone number again to set Mi Pay up on it",
                code="device_binding_mismatch",
            )
