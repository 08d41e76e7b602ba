"""
Find Device: locate on request, lost mode, remote ring, lock and erase (catalog service
``find_device``), with positions only the owner can read: a device seals each position to
the owner's key (HPKE) and the server stores ciphertext only. Commands are signed by the
owner (Ed25519) and checked by the device. See ``docs/find_device.md``.
"""

from __future__ import annotations

from charter.services.find_device.binding import IDENTIFIER_KINDS, Activation
from charter.services.find_device.commands import Command, RateLimitedError
from charter.services.find_device.common import Device
from charter.services.find_device.reports import Report
from charter.services.find_device.service import FindDevice, OwnerKeys

__all__ = [
    "IDENTIFIER_KINDS",
    "Activation",
    "Command",
    "Device",
    "FindDevice",
    "OwnerKeys",
    "RateLimitedError",
    "Report",
]
