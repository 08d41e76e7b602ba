"""
A large item's body is sealed into its file while it arrives (``POST /v1/cloud/{category}/
items`` with a ``Content-Length`` of at least ``STREAM_FROM``): over real HTTP it round-trips
byte for byte with no plaintext on disk; a refused or broken upload leaves no file behind.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import httpx

from charter.api.routers.cloud import STREAM_FROM
from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.gate.blobs import PENDING
from support.live import live_server

CANARY = b"STREAMED-PLAINTEXT-CANARY-"


def _person(charter: Charter) -> tuple[str, dict[str, str]]:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    return subject, {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/octet-stream",
    }


def _blob_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if p.is_file() and "blobs" in p.parts]


def _content(size: int) -> bytes:
    body = (CANARY * (size // len(CANARY) + 1))[:size]
    return hashlib.shake_256(b"x").digest(64) + body[64:]


def test_a_large_upload_round_trips_over_http_and_a_refused_one_leaves_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    subject, headers = _person(charter)
    charter.cloud.set_sync(subject, "notes", False)
    charter.close()
    content = _content(3 * (1 << 20) + 5)
    with live_server(data_dir) as (base, _), httpx.Client(base_url=base, timeout=60) as http:
        made = http.post("/v1/cloud/gallery/items", content=content, headers=headers)
        assert made.status_code == 201, made.text
        assert made.json()["size"] == len(content)
        got = http.get(f"/v1/cloud/items/{made.json()['id']}", headers=headers)
        assert got.content == content
        off = http.post("/v1/cloud/notes/items", content=content, headers=headers)
        assert off.status_code == 403, off.text
        assert off.json()["error"]["code"] == "sync_off"
    files = _blob_files(data_dir)
    assert len(files) == 1 and PENDING not in files[0].parts  # the photo, in its place
    assert CANARY not in files[0].read_bytes()


def test_small_bodies_are_read_whole(charter: Charter) -> None:
    """Below ``STREAM_FROM`` nothing changes: a contact-sized item is kept in its record."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    _, headers = _person(charter)
    with TestClient(create_app(charter), base_url="https://testserver") as api:
        made = api.post("/v1/cloud/notes/items", content=b"a note", headers=headers)
        assert made.status_code == 201, made.text
        small = api.get(f"/v1/cloud/items/{made.json()['id']}", headers=headers)
        assert small.content == b"a note"
    assert _blob_files(charter.settings.data_dir) == []


def test_a_client_gone_mid_body_leaves_no_file(charter: Charter) -> None:
    """The body stops half-way (the client disconnected): the file sealed so far goes."""
    _, headers = _person(charter)
    app = create_app(charter)
    size = 2 * STREAM_FROM
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"\x00" * (STREAM_FROM // 2), "more_body": True},
        {"type": "http.request", "body": b"\x01" * STREAM_FROM, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "server": ("testserver", 443),
        "client": ("127.0.0.1", 5000),
        "path": "/v1/cloud/gallery/items",
        "raw_path": b"/v1/cloud/gallery/items",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", str(size).encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    assert not any(m.get("status") == 201 for m in sent)
    assert messages == []  # the route read the body until the client was gone
    assert _blob_files(charter.settings.data_dir) == []
