"""
``charter.client``: what a device uses to talk to a Charter server, over HTTP only.

It imports nothing of the server: a device (the reference device agent, an app, a test)
depends on the HTTP API and its documented shapes, never on server internals. Errors come
back as :class:`ApiError` with the API's code, message and field.

    from charter.client import CloudClient
    cloud = CloudClient("https://charter.example", token)
    item = cloud.upload("notes", b"buy bread")
    changes = cloud.changes(since="0")
"""

from __future__ import annotations

from charter.client.cloud import Change, Changes, CloudClient, ConflictError, Item
from charter.client.commands import Command, DeviceClient, Enrolment
from charter.client.http import ApiError, Transport
from charter.client.pay import PayClient
from charter.client.video import VideoClient

__all__ = [
    "ApiError",
    "Change",
    "Changes",
    "CloudClient",
    "Command",
    "ConflictError",
    "DeviceClient",
    "Enrolment",
    "Item",
    "PayClient",
    "Transport",
    "VideoClient",
]
