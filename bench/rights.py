"""
Rights benchmarks: export of a user with 10,000 records across all services plus 100 MB of
blobs (first byte, total, peak memory), account deletion (crypto-shredding step and full
removal) and account deletions per second; the Privacy Center's item and activity pages.
Prints ``name: value unit`` lines.

- ``items_page_ms`` (< 100): the first page (20 items) of a person's items of a service that
  holds 10,000 of their records, data key not cached, only the page decrypted (median).
- ``activity_page_ms`` (< 100): the first page (20 entries) of a person's activity with
  100,000 audit entries in their region's log (a tenth of them theirs), median;
  ``activity_filtered_page_ms`` the same filtered to one service.

    python bench/rights.py [--quick]   # --quick: a tenth of the sizes
"""

from __future__ import annotations

import argparse
import resource
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from charter.app import Charter
from charter.config import Settings
from charter.gate import Event
from charter.gate.erasure import remove_subject, shred_subject
from charter.gate.journal import AuditEntry
from charter.policy import SubjectKind
from charter.rights.erasure import delete_account
from charter.taxonomy import AtRest, Purpose, Qualifier


def _seed_user(charter: Charter, records: int, blob_mb: int) -> str:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "in")
    gate.set_switches(
        s.id, dict.fromkeys(charter.compiled.defaults, True), source="user", actor="bench"
    )
    rows = [
        (k, r)
        for k, r in sorted(charter.compiled.rows.items())
        if k[2] is Qualifier.IDENTIFIED and r.stored and r.protection is not AtRest.PASSWORD_HASH
    ]
    events = []
    for i in range(records):
        (service, data_type, _q, purpose), _row = rows[i % len(rows)]
        events.append(
            Event(
                s.id, service, data_type, purpose, {"i": i, "text": "x" * 60}, source="bench-phone"
            )
        )
    accepted = 0
    for i in range(0, len(events), 2_000):
        accepted += gate.collect(events[i : i + 2_000], actor="bench").accepted
    blob = secrets.token_bytes(1024 * 1024)
    for _ in range(blob_mb):
        gate.collect(
            [Event(s.id, "cloud", "photos_videos", Purpose.APP_FUNCTIONALITY, None, blob=blob)],
            actor="bench",
        )
    return s.id


def _bench_export(charter: Charter, records: int, blob_mb: int) -> None:
    rights = charter.rights
    sid = _seed_user(charter, records, blob_mb)
    charter.gate.keys.forget_all()
    tracemalloc.start()
    start = time.perf_counter()
    stream = rights.stream(sid)
    first = next(stream)
    first_byte = time.perf_counter() - start
    size = len(first)
    for chunk in stream:
        size += len(chunk)
    total = time.perf_counter() - start
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"export_records: {records} count")
    print(f"export_blob_mb: {blob_mb} MB")
    print(f"export_bytes: {size} bytes")
    print(f"export_first_byte_s: {first_byte:.3f} s")
    print(f"export_total_s: {total:.3f} s")
    print(f"export_peak_mb: {peak / 2**20:.1f} MB")
    print(f"process_max_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")
    # deletion of that same large user: shred step, then full removal
    subject = charter.gate.subject(sid)
    start = time.perf_counter()
    shred_subject(charter.gate, sid, actor="bench")
    shred = time.perf_counter() - start
    remove_subject(charter.gate, sid, subject.region, actor="bench")
    full = time.perf_counter() - start
    print(f"shred_ms: {shred * 1000:.2f} ms")
    print(f"delete_full_s: {full:.3f} s")


def _bench_deletions(charter: Charter, accounts: int) -> None:
    gate = charter.gate
    ids = []
    for _ in range(accounts):
        s = gate.create_subject(SubjectKind.ACCOUNT, "de")
        gate.set_switches(s.id, {"cloud.authorization": True}, source="user", actor="bench")
        gate.collect(
            [Event(s.id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, {"n": i}) for i in range(5)],
            actor="bench",
        )
        ids.append(s.id)
    start = time.perf_counter()
    for sid in ids:
        delete_account(charter.gate, sid, actor="bench")
    elapsed = time.perf_counter() - start
    print(f"deletions_per_s: {accounts / elapsed:.1f} 1/s")


def _median_ms(run: Callable[[], None], times: int = 15) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2]


def _bench_items(charter: Charter, records: int) -> None:
    gate = charter.gate
    s = gate.create_subject(SubjectKind.ACCOUNT, "de")
    gate.set_switches(s.id, {"cloud.authorization": True}, source="user", actor="bench")
    for start in range(0, records, 1_000):
        n = min(1_000, records - start)
        gate.collect(
            [
                Event(s.id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, f"note {start + i}")
                for i in range(n)
            ],
            actor="bench",
        )

    def first_page() -> None:
        gate.keys.forget_all()  # the data key is unwrapped again, as on a cold request
        page = charter.rights.items(s.id, "cloud")
        assert len(page.items) == 20 and page.next_cursor

    print(f"items_records: {records} count")
    print(f"items_page_ms: {_median_ms(first_page):.2f} ms")


def _bench_activity(charter: Charter, entries: int) -> None:
    gate = charter.gate
    me = gate.create_subject(SubjectKind.ACCOUNT, "de")
    others = [gate.create_subject(SubjectKind.ACCOUNT, "de").id for _ in range(20)]
    mine, theirs = gate.subject_ref(me.id), [gate.subject_ref(o) for o in others]
    engine = gate.stores.region(me.region)
    now = gate.clock()
    done = 0
    while done < entries:
        batch = []
        for i in range(done, min(done + 5_000, entries)):
            service = "cloud" if (i // 10) % 2 else "themes"
            ref = mine if i % 10 == 0 else theirs[i % len(theirs)]
            detail = {"service": service, "purpose": "app_functionality", "records": 3}
            batch.append(AuditEntry(now + i, f"service:{service}", "use", ref, detail))
        with engine.begin() as conn:
            gate.journal.record_many(conn, batch)
        done += len(batch)

    def first_page(service: str | None = None) -> None:
        page = charter.rights.activity.page(me.id, service=service)
        assert len(page.entries) == 20

    print(f"activity_log_entries: {entries} count")
    print(f"activity_page_ms: {_median_ms(first_page):.2f} ms")
    print(f"activity_filtered_page_ms: {_median_ms(lambda: first_page('cloud')):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        Charter.init(data_dir)
        charter = Charter.open(Settings(data_dir=data_dir))
        _bench_export(charter, 10_000 // scale, 100 // scale)
        _bench_deletions(charter, 1_000 // scale)
        _bench_items(charter, 10_000 // scale)
        _bench_activity(charter, 100_000 // scale)
        charter.close()


if __name__ == "__main__":
    main()
