"""
The rights engine: access and download, correction, deletion, withdrawal of consent and
account deletion (R1-R5), consent records and re-consent (G3), requests and complaints
(G4) and the government-request register with its transparency report (G5).

Build one :class:`Rights` per :class:`~charter.app.Charter`::

    rights = Rights(gate)
    request_id, ticket = rights.export(subject_id)
    rights.withdraw(subject_id, "themes")
    rights.delete_account(subject_id)
    assert rights.verify_erasure(subject_id).clean

See ``docs/rights.md``.
"""

from __future__ import annotations

from charter.catalog.policies import Policy, PolicyLibrary
from charter.gate.consent import ConsentBook, ConsentRecord, ConsentStatus, Notice
from charter.rights.devices import DeviceCommand, DeviceCommands
from charter.rights.erasure import ErasureResult
from charter.rights.export import Exports, ExportTicket, stream_export
from charter.rights.requests import Request, RequestKind, RequestQueue, RequestState
from charter.rights.service import Rights
from charter.rights.transparency import GovRegister, GovRequest, TransparencyReport
from charter.rights.verify import ErasureReport, Finding, verify_erasure

__all__ = [
    "ConsentBook",
    "ConsentRecord",
    "ConsentStatus",
    "DeviceCommand",
    "DeviceCommands",
    "ErasureReport",
    "ErasureResult",
    "ExportTicket",
    "Exports",
    "Finding",
    "GovRegister",
    "GovRequest",
    "Notice",
    "Policy",
    "PolicyLibrary",
    "Request",
    "RequestKind",
    "RequestQueue",
    "RequestState",
    "Rights",
    "TransparencyReport",
    "stream_export",
    "verify_erasure",
]
