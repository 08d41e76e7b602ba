"""
Two accounts activate the same device at the same moment (two threads, the real service on
SQLite and on PostgreSQL): exactly one binds it, the other is refused
(``bound_to_another_account``), and one account's binding is all there is.

The first activation is held right after its "is it bound?" check, before it writes the
binding, and waits there for the second activation to make the same check. Unserialised, the
second check finds nothing and both bind the device; serialised (advisory lock on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), the second cannot check until the first commits,
so the first stops waiting after a bound and goes on (the bound is no timing assertion: it
only gives an unserialised second activation its chance to show the race).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fd_support import IDS
from sqlalchemy import select

from charter.app import Charter
from charter.client.find_device_crypto import OwnerKeyFile
from charter.errors import RefusedError
from charter.services.find_device.tables import identifiers

CHANCE_S = 2.0


def _account(charter: Charter) -> str:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    keys = OwnerKeyFile.generate()
    charter.find_device.set_owner_keys(subject, keys.seal_public, keys.sign_public)
    return subject


def test_two_accounts_racing_to_activate_one_device_bind_it_once(
    charter: Charter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fd = charter.find_device
    alice, bob = _account(charter), _account(charter)
    first_checked, second_checked = threading.Event(), threading.Event()
    bind = fd.bindings._bind_identifiers  # the step after the check

    def held(*args: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "first":
            first_checked.set()
            second_checked.wait(CHANCE_S)
        else:
            second_checked.set()
        bind(*args, **kwargs)

    monkeypatch.setattr(fd.bindings, "_bind_identifiers", held)
    outcome: dict[str, str] = {}

    def activate(name: str, subject: str) -> None:
        key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        try:
            fd.activate(subject, IDS, key)
            outcome[name] = "bound"
        except RefusedError as exc:
            outcome[name] = exc.code

    first = threading.Thread(target=activate, args=("first", alice), name="first")
    second = threading.Thread(target=activate, args=("second", bob), name="second")
    first.start()
    assert first_checked.wait(30)
    second.start()
    first.join()
    second.join()

    assert outcome == {"first": "bound", "second": "bound_to_another_account"}
    with charter.stores.control().connect() as conn:
        owners = conn.execute(
            select(identifiers.c.subject_id).where(identifiers.c.active.is_(True))
        ).all()
    assert {row.subject_id for row in owners} == {alice}
    assert [d.id for d in fd.devices(bob)] == []
