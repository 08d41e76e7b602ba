"""Helpers of the store services' tests (themes, App Vault, Get Apps): people with tokens,
an API client, and a marker scan of everything the server wrote."""

from __future__ import annotations

import warnings
from pathlib import Path

from sqlalchemy import select

from charter.app import Charter
from charter.store.files import temp_files
from charter.store.schema import metadata

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "marker_hits", "person", "service_headers"]


def person(
    charter: Charter,
    market: str,
    *,
    kind: str = "account",
    authorize: tuple[str, ...] = (),
    switches: dict[str, bool] | None = None,
) -> tuple[str, dict[str, str]]:
    """A new subject in ``market`` with a user token; ``authorize`` records consent to those
    services' policies (their authorization turns on)."""
    subject = charter.gate.create_subject(kind, market, actor="test").id
    for service in authorize:
        charter.gate.consents.record(subject, service, method="api")
    if switches:
        charter.gate.set_switches(subject, switches, source="user", actor="subject")
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    return subject, {"Authorization": f"Bearer {token}"}


def service_headers(charter: Charter, service: str) -> dict[str, str]:
    """A service credential's header."""
    key = charter.credentials.create_api_key(service, actor="test").secret
    return {"Authorization": f"Bearer {key}"}


def marker_hits(charter: Charter, marker: str) -> list[str]:
    """Every place the server wrote that holds ``marker``: files under the data directory
    (databases, write-ahead logs, blobs, outboxes, keys), registered temporary files, and every
    row of every table in every database (PostgreSQL's files are not ours to read)."""
    needle = marker.encode()
    hits: list[str] = []
    root: Path = charter.settings.data_dir
    for path in sorted(root.rglob("*")):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path.relative_to(root)))
    hits += [str(p) for p in temp_files() if needle in p.read_bytes()]
    engines = {"control": charter.stores.control()}
    engines.update({r: charter.stores.region(r) for r in charter.catalog.regions})
    for name, engine in engines.items():
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    if marker in repr(tuple(row)):
                        hits.append(f"{name}:{table.name}")
    return hits
