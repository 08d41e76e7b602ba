"""Benchmark: raw inserts into the records table, its old layout against its new one.

Usage: ``python bench/records_layout.py [--rows N]``. The same rows (20 per subject, 1,000 per
committed batch, WAL, ``synchronous=FULL``, as Charter opens SQLite) go into:

- ``records_old_layout_rows_per_s``: the layout before migration 0014 (a rowid table, a text
  primary key on the record id, an index on (subject, service, data type) and one on expiry):
  four B-trees per record;
- ``records_new_layout_rows_per_s``: the layout now (``WITHOUT ROWID``, clustered by
  (subject, record id), a partial index on expiry): two B-trees, one touched only by records
  that expire;

and ``records_layout_speedup`` is the second over the first. Runs alternate, three each; the
figures are the medians.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

OLD = """
CREATE TABLE records (id VARCHAR(32) PRIMARY KEY, subject_id VARCHAR(40) NOT NULL,
  service VARCHAR(64) NOT NULL, data_type VARCHAR(64) NOT NULL, qualifier VARCHAR(24) NOT NULL,
  purposes INTEGER NOT NULL, protection VARCHAR(20) NOT NULL, value BLOB, blob VARCHAR(80),
  source VARCHAR(120), collected_at BIGINT NOT NULL, expires_at BIGINT);
CREATE INDEX ix_records_subject_service ON records (subject_id, service, data_type);
CREATE INDEX ix_records_expires_at ON records (expires_at);
"""
NEW = """
CREATE TABLE records (subject_id VARCHAR(40) NOT NULL, id VARCHAR(32) NOT NULL,
  service VARCHAR(64) NOT NULL, data_type VARCHAR(64) NOT NULL, qualifier VARCHAR(24) NOT NULL,
  purposes INTEGER NOT NULL, protection VARCHAR(20) NOT NULL, value BLOB, blob VARCHAR(80),
  source VARCHAR(120), collected_at BIGINT NOT NULL, expires_at BIGINT,
  PRIMARY KEY (subject_id, id)) WITHOUT ROWID;
CREATE INDEX ix_records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;
"""
INSERT = (
    "INSERT INTO records (subject_id, id, service, data_type, qualifier, purposes, protection, "
    "value, blob, source, collected_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def rows(n: int) -> list[tuple[object, ...]]:
    now = time.time_ns() // 1000
    out: list[tuple[object, ...]] = []
    subject = ""
    for i in range(n):
        if i % 20 == 0:
            subject = "s_" + os.urandom(16).hex()
        expires = now + 86_400_000_000 if i % 4 == 0 else None  # a quarter of records expire
        out.append(
            (
                subject,
                os.urandom(16).hex(),
                "cloud",
                "notes",
                "identified",
                1,
                "field_encryption",
                os.urandom(60),
                None,
                None,
                now,
                expires,
            )
        )
    return out


def run(schema: str, data: list[tuple[object, ...]]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "r.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(schema)
        start = time.perf_counter()
        for i in range(0, len(data), 1_000):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(INSERT, data[i : i + 1_000])
            db.execute("COMMIT")
        elapsed = time.perf_counter() - start
        db.close()
        return len(data) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    data = rows(args.rows)
    old, new = [], []
    for _ in range(3):
        old.append(run(OLD, data))
        new.append(run(NEW, data))
    o, n = statistics.median(old), statistics.median(new)
    print(f"records_old_layout_rows_per_s: {o:.0f} rows/s")
    print(f"records_new_layout_rows_per_s: {n:.0f} rows/s")
    print(f"records_layout_speedup: {n / o:.2f} x")


if __name__ == "__main__":
    main()
