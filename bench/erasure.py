"""Benchmark: ``verify-erasure`` for one subject, as the deployment grows.

Usage: ``python bench/erasure.py [--quick]``. Builds a deployment of 10,000 subjects x 20
records, then one of 100,000 subjects x 20 records (``--quick``: 1,000 and 10,000), and times
the fast (index- and registry-driven) check of one subject in each. Prints one figure per line
as ``name: value unit`` on stdout, progress on stderr.

Figures and targets:

- ``verify_erasure_ms_10k`` (< 200): the fast check of one subject among 10,000, median of 7.
- ``verify_erasure_ms_100k``: the same among 100,000.
- ``verify_erasure_deep_ms_10k``: the full scan (``--deep``) of the same subject, once, for
  comparison: it reads every row and file, so it grows with the deployment.
- ``verify_erasure_ratio_100k_10k`` (<= 2): the second over the first: the check grows with
  the subject's data, not with everyone's.

Subjects and their ``cloud.authorization`` switch are written in bulk (10,000 rows an insert);
records go through the gate's batch collect (1,000 field-encrypted events a batch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from charter.app import Charter
from charter.config import Settings
from charter.gate import Event, new_id
from charter.store import schema as t
from charter.taxonomy import Purpose

RECORDS = 20
BATCH = 1_000
CHUNK = 10_000


def report(name: str, value: float, unit: str) -> None:
    """Print one figure."""
    text = f"{value:.0f}" if value >= 1_000 else f"{value:.2f}"
    print(f"{name}: {text} {unit}", flush=True)


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def bulk_subjects(charter: Charter, n: int) -> list[str]:
    """``n`` German accounts that authorised the cloud, written in bulk."""
    ids = [new_id("s_") for _ in range(n)]
    now = time.time_ns() // 1000
    region = charter.catalog.markets["de"].region
    for start in range(0, n, CHUNK):
        chunk = ids[start : start + CHUNK]
        with charter.stores.control().begin() as conn:
            conn.execute(
                insert(t.subject_directory),
                [
                    {"subject_id": s, "region": region, "kind": "account", "created_at": now}
                    for s in chunk
                ],
            )
        with charter.stores.region(region).begin() as conn:
            conn.execute(
                insert(t.subjects),
                [
                    {
                        "id": s,
                        "kind": "account",
                        "market": "de",
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for s in chunk
                ],
            )
            conn.execute(
                insert(t.switches),
                [
                    {
                        "subject_id": s,
                        "key": "cloud.authorization",
                        "value": True,
                        "changed_at": now,
                        "source": "user",
                    }
                    for s in chunk
                ],
            )
    return ids


def collect_all(charter: Charter, subjects: list[str]) -> None:
    events = (
        Event(
            s, "cloud", "notes", Purpose.APP_FUNCTIONALITY, {"title": f"note {i}", "body": "Milk."}
        )
        for s in subjects
        for i in range(RECORDS)
    )
    batch: list[Event] = []
    done = 0
    for event in events:
        batch.append(event)
        if len(batch) == BATCH:
            charter.gate.collect(batch, actor="service:cloud", service="cloud")
            done += len(batch)
            batch = []
            if done % 200_000 == 0:
                progress(f"  {done:,} records")
    if batch:
        charter.gate.collect(batch, actor="service:cloud", service="cloud")


def verify_ms(subjects: int, *, deep_too: bool = False) -> tuple[float, float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        Charter.init(data)
        charter = Charter.open(Settings(data_dir=data))
        progress(f"{subjects:,} subjects x {RECORDS} records: building")
        ids = bulk_subjects(charter, subjects)
        collect_all(charter, ids)
        target = ids[len(ids) // 2]
        charter.rights.verify_erasure(target, deep=False)  # warm up: opens every region's database
        times = []
        for _ in range(7):
            start = time.perf_counter()
            found = charter.rights.verify_erasure(target, deep=False)
            times.append((time.perf_counter() - start) * 1000)
            assert not found.clean  # the subject is still there: the check must see it
            rows = {f.where: f.count for f in found.findings}
            assert any(w.endswith("records.subject_id") and n == RECORDS for w, n in rows.items())
        absent = charter.rights.verify_erasure(new_id("s_"), deep=False)
        assert absent.clean, absent.findings
        deep = None
        if deep_too:  # the full scan, once, for comparison
            start = time.perf_counter()
            assert not charter.rights.verify_erasure(target, deep=True).clean
            deep = (time.perf_counter() - start) * 1000
        charter.close()
        return statistics.median(times), deep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    small, large = (1_000, 10_000) if args.quick else (10_000, 100_000)
    first, deep = verify_ms(small, deep_too=True)
    report(f"verify_erasure_ms_{small // 1000}k", first, "ms")
    assert deep is not None
    report(f"verify_erasure_deep_ms_{small // 1000}k", deep, "ms")
    second, _ = verify_ms(large)
    report(f"verify_erasure_ms_{large // 1000}k", second, "ms")
    report(f"verify_erasure_ratio_{large // 1000}k_{small // 1000}k", second / first, "x")


if __name__ == "__main__":
    main()
