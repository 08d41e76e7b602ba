"""
``charter.device``: the device agent, a reference phone that keeps the catalog's on-device
promises and talks to a Charter server over HTTP only (:mod:`charter.client`).

    from charter.device import Device
    phone = Device.create(Path("phone"), password="123456", server=url, token=token)
    phone.poll()  # carry out and confirm the server's commands

See ``docs/device.md``.
"""

from __future__ import annotations

from charter.device.biometrics import Biometrics, Kind
from charter.device.browser import Browser, Tab
from charter.device.commands import Handlers
from charter.device.permissions import PERMISSIONS, Grant, Manifest, Permission
from charter.device.promises import ENFORCERS
from charter.device.runtime import Device
from charter.device.space import Space
from charter.device.usage import UsageEvent, UsageReporter

__all__ = [
    "ENFORCERS",
    "PERMISSIONS",
    "Biometrics",
    "Browser",
    "Device",
    "Grant",
    "Handlers",
    "Kind",
    "Manifest",
    "Permission",
    "Space",
    "Tab",
    "UsageEvent",
    "UsageReporter",
]
