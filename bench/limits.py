"""What this machine can do, measured beside Charter's own figures in the same run.

The benches print these next to the paths they bound, and each path's ratio to its limit:
on a shared, noisy machine the absolute figures move together, the ratios hold.

- ``raw_insert_rows_per_s``: plain ``sqlite3`` inserting rows shaped like the records table
  (its twelve columns, values of the sizes a collect writes) in 1,000-row transactions, WAL,
  ``synchronous=FULL``, into a rowid table without secondary indexes: the cost of writing
  the bytes durably, nothing else.
- ``raw_insert_indexed_rows_per_s``: the same rows into the records table as the schema
  declares it (its primary key and indexes): what the layout itself costs.
- ``durable_commits_per_s``: one small ``INSERT`` and one fsync'ed commit at a time, WAL,
  ``synchronous=FULL``: the bound of any change that must be on disk before it is answered.
- ``http_floor_req_per_s``: ``GET /v1/whoami`` (authenticated, does nothing else) on the same
  server as the figures it bounds, from the same number of clients.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from charter.store import schema as t

RAW_BATCH = 1_000

_PLAIN_TABLE = """CREATE TABLE raw_records (
  id TEXT, subject_id TEXT, service TEXT, data_type TEXT, qualifier TEXT, purposes INTEGER,
  protection TEXT, value BLOB, blob TEXT, source TEXT, collected_at INTEGER, expires_at INTEGER
)"""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _rows(n: int) -> list[tuple[object, ...]]:
    """Rows of the sizes a collect of cloud notes writes (ciphertext of ~90 bytes)."""
    now = time.time_ns() // 1000
    prefix = f"{now:016x}"
    subjects = ["s_" + os.urandom(16).hex() for _ in range(100)]
    return [
        (
            prefix + os.urandom(8).hex(),
            subjects[i % len(subjects)],
            "cloud",
            "notes",
            "identified",
            1,
            "field_encryption",
            os.urandom(90),
            None,
            None,
            now,
            None,
        )
        for i in range(n)
    ]


def _insert_loop(conn: sqlite3.Connection, table: str, rows: list[tuple[object, ...]]) -> float:
    sql = f"INSERT INTO {table} VALUES ({', '.join('?' * 12)})"
    start = time.perf_counter()
    for at in range(0, len(rows), RAW_BATCH):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[at : at + RAW_BATCH])
        conn.execute("COMMIT")
    return len(rows) / (time.perf_counter() - start)


def raw_insert_rows_per_s(directory: Path, total: int) -> float:
    """Rows per second into a plain rowid table shaped like the records table."""
    path = directory / "raw.sqlite"
    conn = _connect(path)
    try:
        conn.execute(_PLAIN_TABLE)
        _insert_loop(conn, "raw_records", _rows(RAW_BATCH))  # warm up
        return _insert_loop(conn, "raw_records", _rows(total))
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def raw_insert_indexed_rows_per_s(directory: Path, total: int) -> float:
    """Rows per second into the records table as the schema declares it (keys, indexes)."""
    path = directory / "raw_indexed.sqlite"
    dialect = create_engine("sqlite://").dialect
    conn = _connect(path)
    try:
        # the records table without its foreign key (no subjects table here)
        conn.execute(
            str(CreateTable(t.records).compile(dialect=dialect)).replace(
                "FOREIGN KEY(subject_id) REFERENCES subjects (id) ON DELETE CASCADE", "CHECK (1)"
            )
        )
        for index in t.records.indexes:
            conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
        _insert_loop(conn, "records", _rows(RAW_BATCH))
        return _insert_loop(conn, "records", _rows(total))
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def durable_commits_per_s(directory: Path, seconds: float) -> float:
    """Single-row transactions per second, each committed with an fsync."""
    path = directory / "commits.sqlite"
    conn = _connect(path)
    try:
        conn.execute("CREATE TABLE changes (id INTEGER PRIMARY KEY, key TEXT, value INTEGER)")
        done = 0
        start = time.perf_counter()
        stop = start + seconds
        while time.perf_counter() < stop:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO changes (key, value) VALUES (?, ?)", ("cloud.sync", done % 2))
            conn.execute("COMMIT")
            done += 1
        return done / (time.perf_counter() - start)
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def http_floor_req_per_s(
    url: str, headers: Mapping[str, str], requests: int, clients: int = 4
) -> float:
    """``GET /v1/whoami`` per second from ``clients`` threads (each with its own connection)."""
    per_client = requests // clients
    barrier = threading.Barrier(clients + 1)

    def client(_: int) -> None:
        with httpx.Client(base_url=url, headers=dict(headers), timeout=60) as http:
            assert http.get("/v1/whoami").status_code == 200  # connect, warm up
            barrier.wait()
            for _ in range(per_client):
                answer = http.get("/v1/whoami")
                assert answer.status_code == 200, answer.text[:200]

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        barrier.wait()
        start = time.perf_counter()
        for future in futures:
            future.result()
    return per_client * clients / (time.perf_counter() - start)


def ratio(name: str, value: float, limit: float) -> None:
    """Print one ratio as ``name: value x``."""
    print(f"{name}: {value / limit:.3f} x", flush=True)
