"""Helpers for the content-service tests (Mi Browser, Mi Video, Mi Pay): people in a market
with switches on, their device tokens, and a raw-byte marker scan of every file the server
wrote — the data directory (SQLite databases with their -wal and -shm, logs, outbox,
uploads) and, on PostgreSQL, the deployment's database files and the server's WAL."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.app import Charter
from charter.asgi import create_app
from charter.rights.verify import encodings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "api_client", "device", "person", "scan_written"]


def person(charter: Charter, market: str, *switches: str) -> str:
    """An account subject living in ``market`` with the named switches on."""
    subject = charter.gate.create_subject("account", market, actor="test").id
    if switches:
        charter.gate.set_switches(
            subject, dict.fromkeys(switches, True), source="user", actor="subject"
        )
    return subject


def device(charter: Charter, subject_id: str) -> dict[str, str]:
    """The Authorization header of a device of the person (a user token)."""
    token = charter.credentials.issue_user_token(subject_id, actor="test").secret
    return {"Authorization": f"Bearer {token}"}


def api_client(charter: Charter) -> Iterator[TestClient]:
    """The deployment's HTTP API."""
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def _pg_files(charter: Charter) -> list[Path]:
    urls = [charter.settings.control_url, *charter.settings.region_urls.values()]
    urls = [u for u in urls if u]
    if not urls:
        return []
    engine = create_engine(make_url(urls[0]))
    names = [make_url(u).database for u in urls]
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
            root = Path(str(conn.execute(text("SHOW data_directory")).scalar_one()))
            oids = conn.execute(
                text("SELECT oid FROM pg_database WHERE datname = ANY(:n)"), {"n": names}
            ).scalars()
            dirs = [root / "base" / str(o) for o in oids]
    finally:
        engine.dispose()
    files: list[Path] = []
    for folder in [*dirs, root / "pg_wal"]:
        assert folder.is_dir(), f"cannot read {folder}: run the PostgreSQL tests as its owner"
        files.extend(p for p in folder.rglob("*") if p.is_file())
    return files


def scan_written(charter: Charter, markers: list[str]) -> tuple[int, list[tuple[str, str]]]:
    """Scan every file the server wrote for the markers in any encoding (UTF-8, UTF-16,
    base64, hex): returns (bytes scanned, hits as (file, marker))."""
    root = charter.settings.data_dir
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.name != "keyring.json"]
    files += _pg_files(charter)
    patterns = {m: list(encodings(m).values()) for m in markers}
    scanned = 0
    hits: list[tuple[str, str]] = []
    for path in files:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, PermissionError) as exc:
            if isinstance(exc, PermissionError):
                pytest.fail(f"cannot read {path}")
            continue
        scanned += len(data)
        for marker, forms in patterns.items():
            if any(enc in data for group in forms for enc in group):
                hits.append((str(path), marker))
    return scanned, hits


def scan_all_written(
    charter: Charter,
    api: TestClient,
    headers: dict[str, str],
    markers: list[str],
    logs: str,
) -> tuple[int, list[tuple[str, str]]]:
    """:func:`scan_written` after the person asked for their export through HTTP (so the
    export file the server writes is among the files scanned, and its download too), plus the
    log lines the server emitted (``logs``: the test's captured text)."""
    made = api.post("/v1/me/exports", headers=headers)
    assert made.status_code == 201, made.text
    download = api.get(made.json()["download"], headers=headers)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as z:
        exported = b"".join(z.read(n) for n in z.namelist())
    assert exported, "the export is empty"
    scanned, hits = scan_written(charter, markers)
    for marker in markers:
        forms = [enc for group in encodings(marker).values() for enc in group]
        if any(enc in exported for enc in forms):
            hits.append(("export (unzipped)", marker))
        if marker in logs:
            hits.append(("server log", marker))
    return scanned + len(exported) + len(logs), hits
