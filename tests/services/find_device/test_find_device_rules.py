"""
Find Device's refusals and rules: forged, altered, replayed or expired commands are refused
by the device; a batch with a bad signature is refused by the server; the 30-day rule under
the fake clock (29 days off then on keeps the history; 30 consecutive days destroys it, in
the database and its WAL); lost mode blocks switching off; the server writes no coordinate
in any encoding; erasing the account leaves no find-device residue.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fd_support import BERLIN, device, owner, refresh, served
from sqlalchemy import func, select

from charter.app import Charter
from charter.client import ApiError
from charter.client.find_device_crypto import OwnerKeyFile, b64e
from charter.services.find_device.tables import commands, reports
from charter.testing import FakeClock


def _count(charter: Charter, table: object, subject_id: str) -> int:
    with charter.stores.control().connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.subject_id == subject_id)  # type: ignore[attr-defined]
            ).scalar_one()
        )


@pytest.mark.promise("find_device.remote_actions")
def test_forged_altered_replayed_expired_commands_are_refused_by_the_device(
    charter: Charter, clock: FakeClock, tmp_path: Path
) -> None:
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path)
        phone.activate(alice.token)
        fd_id = phone.device_id or ""
        now = clock()

        mallory = OwnerKeyFile.generate()
        payload, sig = mallory.command("erase", fd_id, now)
        assert phone.handle("fc_" + "1" * 32, payload, sig)[1] == "refused:bad_signature"

        payload, sig = alice.keys.command("ring", fd_id, now)
        altered = payload.replace(b'"ring"', b'"erase"')
        assert phone.handle("fc_" + "2" * 32, altered, sig)[1] == "refused:bad_signature"

        other, other_sig = alice.keys.command("erase", "fd_" + "f" * 32, now)
        assert phone.handle("fc_" + "3" * 32, other, other_sig)[1] == "refused:wrong_device"

        queued = charter.find_device.commands.queue(
            alice.subject_id, fd_id, payload, sig, actor="subject"
        )
        assert phone.handle(queued.id, payload, sig) == ("ring", "done")
        assert phone.rang == 1
        assert phone.handle(queued.id, payload, sig)[1] == "refused:replayed"
        assert phone.rang == 1

        old, old_sig = alice.keys.command("erase", fd_id, now, ttl_s=60)
        clock.advance(seconds=61)
        assert phone.handle("fc_" + "5" * 32, old, old_sig)[1] == "refused:expired"
        assert phone.state  # not erased

        # The server refuses them too, before they reach the queue.
        fresh, fresh_sig = alice.keys.command("ring", fd_id, clock())
        fd = charter.find_device.commands
        fd.queue(alice.subject_id, fd_id, fresh, fresh_sig, actor="subject")
        for bad in (
            (fresh, fresh_sig),  # replayed nonce
            (altered, sig),  # altered
            (old, old_sig),  # expired
        ):
            with pytest.raises(Exception) as refused:
                fd.queue(alice.subject_id, fd_id, bad[0], bad[1], actor="subject")
            assert getattr(refused.value, "code", "") in {"replayed", "bad_signature", "expired"}


def test_a_report_batch_with_a_bad_signature_is_refused(charter: Charter, tmp_path: Path) -> None:
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path)
        phone.activate(alice.token)
        alice.api.send(phone.device_id or "", "lost_mode_on", message="m", phone="1")
        phone.poll()
        before = _count(charter, reports, alice.subject_id)
        phone.state["device_key"] = b64e(Ed25519PrivateKey.generate().private_bytes_raw())
        with pytest.raises(ApiError) as refused:
            phone.report("lost")
        assert refused.value.code == "bad_signature"
        assert _count(charter, reports, alice.subject_id) == before


@pytest.mark.promise("find_device.location_history_deletion")
@pytest.mark.promise("find_device.off_requires_leaving_lost_mode")
def test_history_survives_29_days_off_and_goes_after_30(
    charter: Charter, clock: FakeClock, tmp_path: Path
) -> None:
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path)
        phone.activate(alice.token)
        fd_id = phone.device_id or ""
        alice.api.send(fd_id, "locate")
        phone.poll()
        alice.api.send(fd_id, "lost_mode_on", message="m", phone="1")
        phone.poll()
        with pytest.raises(ApiError) as blocked:
            alice.api.switch_off(fd_id)
        assert blocked.value.code == "lost_mode_on"
        alice.api.send(fd_id, "lost_mode_off")
        phone.poll()
        sealed = [bytes(r.sealed) for r in charter.find_device.reports.list(alice.subject_id)]
        assert len(sealed) == 2

        alice.api.switch_off(fd_id)
        clock.advance(days=29)
        assert charter.find_device.purge_history() == 0
        refresh(charter, alice)
        phone.activate(alice.token)  # on again within the 30 days: history kept
        clock.advance(days=2)
        assert charter.find_device.purge_history() == 0
        assert _count(charter, reports, alice.subject_id) == 2

        refresh(charter, alice)
        alice.api.switch_off(fd_id)
        clock.advance(days=30, seconds=-1)
        assert charter.find_device.purge_history() == 0
        clock.advance(seconds=1)
        assert charter.find_device.purge_history() == 2
        assert charter.find_device.purge_history() == 0  # idempotent
        assert _count(charter, reports, alice.subject_id) == 0
        assert _count(charter, commands, alice.subject_id) == 0
        if charter.stores.control().dialect.name == "sqlite":
            data = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
            assert not any(s[-24:] in data for s in sealed)


def _encodings(value: float) -> list[bytes]:
    text = repr(value)
    return [
        text.encode(), text.encode("utf-16-le"), json.dumps(value).encode(),
        struct.pack("<d", value), struct.pack(">d", value), struct.pack("<f", value),
        struct.pack(">f", value), f"{value:.5f}".encode(), f"{value:.4f}".encode(),
    ]  # fmt: skip


def test_no_file_the_server_writes_holds_a_coordinate(charter: Charter, tmp_path: Path) -> None:
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path / "..", name=f"canary-{tmp_path.name}")
        phone.activate(alice.token)
        alice.api.send(phone.device_id or "", "locate")
        phone.poll()
        assert alice.api.history()["reports"][0]["position"]["lat"] == BERLIN.lat
    data_dir = charter.settings.data_dir
    found = []
    for path in data_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            for value in (BERLIN.lat, BERLIN.lon):
                found += [(path.name, enc) for enc in _encodings(value) if enc in raw]
    assert found == []


def test_account_erasure_leaves_no_find_device_residue(charter: Charter, tmp_path: Path) -> None:
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path)
        phone.activate(alice.token, phone_number="+49 30 1234567")
        alice.api.send(phone.device_id or "", "locate")
        phone.poll()
    charter.rights.delete_account(alice.subject_id, actor="test")
    report = charter.rights.verify_erasure(alice.subject_id, markers=["+49 30 1234567"])
    assert report.clean, report
    assert _count(charter, reports, alice.subject_id) == 0
