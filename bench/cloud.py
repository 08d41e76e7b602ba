"""
Cloud benchmarks. Prints ``name: value unit`` lines.

- ``delta_sync_10k_ms``: server time to answer every "changes since token" page (1,000 a
  page) for an account holding 100,000 items of which 10,000 changed after the token.
- ``delta_sync_noop_ms`` (target < 5 ms, independent of the account's size): the same when
  nothing changed; ``delta_sync_noop_small_ms`` beside it for an account of 10 items.
- ``upload_mb_per_s``: 100 MB of photos (25 of 4 MB) uploaded over HTTP to ``charter serve``
  (one process, SQLite, loopback), each through the gate (sealed into its file while its
  body arrives); ``copy_mb_per_s`` the same bytes
  copied file to file on the same disk, the copy and its folder fsynced (the gate makes
  each blob file and its name durable before the record commits);
  ``upload_fraction_of_copy`` (target >= 0.3) their ratio. Each copy is timed right before
  each upload, so both meet the same load on the disk (it varies tenfold on a shared
  machine). ``upload_first_ms``: a fresh server's first upload (it opens the region's
  database and makes the person's data key), reported apart and not in the rate.
- ``contacts_sync_items_per_s``: 10,000 contacts (about 100 bytes each) uploaded in
  batches of 500 over HTTP, each batch one gate transaction with the contacts sealed in
  their records (no file each); ``contacts_sync_advanced_items_per_s`` the same with the
  contacts under advanced protection (each encrypted on the device with its name by
  :mod:`charter.client.protection`, the server checking every envelope).

The 100,000 items of the delta benchmark are sync rows written straight into
``cloud_items`` (the changes query reads only them); uploads go through the whole path.

    python bench/cloud.py [--quick]   # --quick: a tenth of the sizes, but 10 photo uploads
                                      # (2 would make the upload ratio a coin toss)
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert, update

from charter.app import Charter
from charter.client import CloudClient
from charter.client.protection import DeviceKey, ProtectedCloud
from charter.config import Settings
from charter.services.cloud.tables import accounts, items

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.live import live_server

MB = 1_000_000


def _person(charter: Charter) -> str:
    subject = charter.gate.create_subject("account", "de", actor="bench").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    return subject


def _fill(charter: Charter, subject: str, n: int) -> None:
    """``n`` sync rows, change numbers 1..n."""
    now = charter.clock()
    with charter.stores.control().begin() as conn:
        charter.cloud.ensure_account(conn, subject)
        for start in range(0, n, 10_000):
            conn.execute(
                insert(items),
                [
                    {
                        "subject_id": subject,
                        "id": "ci_" + secrets.token_hex(16),
                        "category": "notes",
                        "version": 1,
                        "seq": seq,
                        "record_id": None,
                        "size": 100,
                        "state": "live",
                        "trashed_at": None,
                        "purge_at": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for seq in range(start + 1, min(start + 10_000, n) + 1)
                ],
            )
        conn.execute(update(accounts).where(accounts.c.subject_id == subject).values(seq=n))


def _changes_ms(charter: Charter, subject: str, since: int, rounds: int = 20) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        token, more = since, True
        while more:
            _found, token, more = charter.cloud.changes(subject, token, 1000)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_delta(data_dir: Path, total: int, changed: int) -> None:
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    big, small = _person(charter), _person(charter)
    _fill(charter, big, total)
    _fill(charter, small, 10)
    print(f"delta_sync_10k_ms: {_changes_ms(charter, big, total - changed, 5):.1f} ms")
    print(f"delta_sync_noop_ms: {_changes_ms(charter, big, total):.2f} ms")
    print(f"delta_sync_noop_small_ms: {_changes_ms(charter, small, 10):.2f} ms")
    charter.close()


def bench_uploads(data_dir: Path, photos: int, contacts: int) -> None:
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    subject = _person(charter)
    token = charter.credentials.issue_user_token(subject, actor="bench").secret
    charter.close()
    photo = os.urandom(4 * MB)
    headers = {"Authorization": f"Bearer {token}"}
    copies = data_dir.parent / "copies"
    copies.mkdir()
    source = copies / "photo.jpg"
    source.write_bytes(photo)
    raw = {**headers, "Content-Type": "application/octet-stream"}
    copying = uploading = 0.0
    with live_server(data_dir) as (base, _), httpx.Client(base_url=base, timeout=60) as http:
        started = time.perf_counter()
        http.post("/v1/cloud/gallery/items", content=os.urandom(4 * MB), headers=raw)
        first = (time.perf_counter() - started) * 1000  # a fresh server: opens, keys, caches
        for n in range(photos):  # alternated, so both see the same load on the disk
            started = time.perf_counter()
            target = copies / f"copy-{n}.jpg"
            shutil.copyfile(source, target)
            with target.open("rb+") as f:
                os.fsync(f.fileno())
            _fsync_folder(copies)  # the new name durable too, as the upload's is
            copying += time.perf_counter() - started
            started = time.perf_counter()
            http.post("/v1/cloud/gallery/items", content=photo, headers=raw).raise_for_status()
            uploading += time.perf_counter() - started
        copy = photos * len(photo) / MB / copying
        upload = photos * len(photo) / MB / uploading
        cards = [
            base64.b64encode(
                f"BEGIN:VCARD\nVERSION:4.0\nFN:Person {n}\nTEL:+4930{n:08d}\n"
                f"EMAIL:person{n}@example.org\nEND:VCARD\n".encode()
            ).decode()
            for n in range(contacts)
        ]
        started = time.perf_counter()
        for at in range(0, contacts, 500):
            http.post(
                "/v1/cloud/contacts/batch", json={"items": cards[at : at + 500]}, headers=headers
            ).raise_for_status()
        per_s = contacts / (time.perf_counter() - started)
        advanced = _advanced_contacts(base, token, data_dir.parent, contacts)
    print(f"upload_first_ms: {first:.0f} ms")
    print(f"copy_mb_per_s: {copy:.1f} MB/s")
    print(f"upload_mb_per_s: {upload:.1f} MB/s")
    print(f"upload_fraction_of_copy: {upload / copy:.2f} ratio")
    print(f"contacts_sync_items_per_s: {per_s:.0f} items/s")
    print(f"contacts_sync_advanced_items_per_s: {advanced:.0f} items/s")


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _advanced_contacts(base: str, token: str, folder: Path, contacts: int) -> float:
    """Contacts per second under advanced protection (encrypted on the device)."""
    with CloudClient(base, token) as plain:
        device = ProtectedCloud(plain, DeviceKey.load_or_create(folder / "device-key.json"))
        device.protect("calendar", acknowledge_data_loss=True)  # any empty category
        cards = [
            (
                f"Person {n}.vcf",
                f"BEGIN:VCARD\nVERSION:4.0\nFN:Person {n}\nTEL:+4930{n:08d}\n"
                f"EMAIL:person{n}@example.org\nEND:VCARD\n".encode(),
            )
            for n in range(contacts)
        ]
        started = time.perf_counter()
        for at in range(0, contacts, 500):
            device.upload_batch("calendar", cards[at : at + 500])
        return contacts / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of the sizes (10 photo uploads)"
    )
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory(dir=os.environ.get("CHARTER_BENCH_DIR")) as tmp:
        bench_delta(Path(tmp) / "delta", 100_000 // scale, 10_000 // scale)
        bench_uploads(Path(tmp) / "uploads", 25 if scale == 1 else 10, 10_000 // scale)


if __name__ == "__main__":
    main()
