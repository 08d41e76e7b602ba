"""
Resumable uploads: chunks with a digest each, a tampered chunk refused, a server killed with
SIGKILL mid-way and the upload resumed from where the server says, the whole content checked
against its SHA-256; the chunks on disk are encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.errors import InputError
from support.live import live_server

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

MIB = 1 << 20


def content_of(size: int, seed: int = 7) -> bytes:
    return hashlib.shake_256(str(seed).encode()).digest(size)


def digest(chunk: bytes) -> dict[str, str]:
    return {
        "Content-Digest": "sha-256=:"
        + base64.b64encode(hashlib.sha256(chunk).digest()).decode()
        + ":"
    }


def person(charter: Charter) -> tuple[str, dict[str, str]]:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    return subject, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def send(
    http: Any, headers: dict[str, str], upload: str, offset: int, chunk: bytes, **extra: str
) -> Any:
    return http.put(
        f"/v1/cloud/uploads/{upload}",
        params={"offset": offset},
        content=chunk,
        headers={**headers, **digest(chunk), "Content-Type": "application/octet-stream", **extra},
    )


def test_chunks_with_digests_make_an_item_and_a_tampered_chunk_is_refused(
    charter: Charter, api: TestClient
) -> None:
    _, headers = person(charter)
    data = content_of(3 * MIB + 123)
    begun = api.post(
        "/v1/cloud/gallery/uploads",
        json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        headers=headers,
    )
    assert begun.status_code == 201, begun.text
    upload = begun.json()["id"]
    first = data[:MIB]
    assert send(api, headers, upload, 0, first).json()["received"] == MIB
    tampered = bytearray(data[MIB : 2 * MIB])
    tampered[5] ^= 1
    bad = api.put(
        f"/v1/cloud/uploads/{upload}",
        params={"offset": MIB},
        content=bytes(tampered),
        headers={
            **headers,
            **digest(data[MIB : 2 * MIB]),
            "Content-Type": "application/octet-stream",
        },
    )
    assert bad.status_code == 422 and "does not match" in bad.json()["error"]["message"]
    assert api.get(f"/v1/cloud/uploads/{upload}", headers=headers).json()["received"] == MIB
    wrong_place = send(api, headers, upload, 0, first)
    assert wrong_place.status_code == 422 and str(MIB) in wrong_place.json()["error"]["message"]
    early = api.post(f"/v1/cloud/uploads/{upload}/complete", headers=headers)
    assert early.status_code == 422
    for at in range(MIB, len(data), MIB):
        assert send(api, headers, upload, at, data[at : at + MIB]).status_code == 200
    done = api.post(f"/v1/cloud/uploads/{upload}/complete", headers=headers)
    assert done.status_code == 201, done.text
    item = done.json()
    assert item["size"] == len(data) and item["category"] == "gallery"
    assert api.get(f"/v1/cloud/items/{item['id']}", headers=headers).content == data
    assert not list((charter.settings.data_dir / "cloud" / "uploads").glob("*.part"))
    assert api.get(f"/v1/cloud/uploads/{upload}", headers=headers).status_code == 404


def test_a_whole_content_that_does_not_match_its_digest_is_dropped(charter: Charter) -> None:
    subject, _ = person(charter)
    data = content_of(1000)
    uploads = charter.cloud.uploads
    upload = uploads.begin(subject, "notes", size=len(data), sha256="0" * 64)
    uploads.put_chunk(
        subject, upload.id, offset=0, chunk=data, sha256=hashlib.sha256(data).hexdigest()
    )
    with pytest.raises(InputError, match="does not match the SHA-256 announced"):
        uploads.complete(subject, upload.id)
    assert charter.cloud.changes(subject)[0] == []


def test_a_chunk_written_before_a_crash_but_never_counted_is_replaced(charter: Charter) -> None:
    subject, _ = person(charter)
    data = content_of(5000)
    uploads = charter.cloud.uploads
    upload = uploads.begin(
        subject, "notes", size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    head = data[:2000]
    uploads.put_chunk(
        subject, upload.id, offset=0, chunk=head, sha256=hashlib.sha256(head).hexdigest()
    )
    part = charter.settings.data_dir / "cloud" / "uploads" / f"{upload.id}.part"
    with part.open("ab") as f:  # the server died after writing the next chunk, before counting it
        f.write(b"\x00\x00\x00\x10" + b"half-written....")
    tail = data[2000:]
    uploads.put_chunk(
        subject, upload.id, offset=2000, chunk=tail, sha256=hashlib.sha256(tail).hexdigest()
    )
    item = uploads.complete(subject, upload.id)
    assert charter.cloud.content(subject, item.id)[1] == data


def test_chunks_on_disk_are_encrypted(charter: Charter) -> None:
    subject, _ = person(charter)
    data = b"PLAINTEXT-CANARY-" * 100
    uploads = charter.cloud.uploads
    upload = uploads.begin(
        subject, "notes", size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    uploads.put_chunk(
        subject, upload.id, offset=0, chunk=data, sha256=hashlib.sha256(data).hexdigest()
    )
    part = charter.settings.data_dir / "cloud" / "uploads" / f"{upload.id}.part"
    assert b"PLAINTEXT-CANARY" not in part.read_bytes()


def test_an_upload_resumes_after_the_server_is_killed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    _, headers = person(charter)
    charter.close()
    data = content_of(4 * MIB + 17, seed=3)
    with live_server(data_dir) as (base, pid):
        with httpx.Client(base_url=base) as http:
            upload = http.post(
                "/v1/cloud/notes/uploads",
                json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
                headers=headers,
            ).json()["id"]
            for at in (0, MIB):
                assert send(http, headers, upload, at, data[at : at + MIB]).status_code == 200
        os.kill(pid, signal.SIGKILL)
    with live_server(data_dir) as (base, _), httpx.Client(base_url=base) as http:
        at = http.get(f"/v1/cloud/uploads/{upload}", headers=headers).json()["received"]
        assert at == 2 * MIB
        while at < len(data):
            answer = send(http, headers, upload, at, data[at : at + MIB])
            assert answer.status_code == 200, answer.text
            at = answer.json()["received"]
        item = http.post(f"/v1/cloud/uploads/{upload}/complete", headers=headers).json()
        assert http.get(f"/v1/cloud/items/{item['id']}", headers=headers).content == data


def test_deleting_the_account_removes_its_uploads_in_progress(charter: Charter) -> None:
    subject, _ = person(charter)
    other, _ = person(charter)
    data = b"half of a video"
    mine = charter.cloud.uploads.begin(
        subject, "gallery", size=100, sha256=hashlib.sha256(b"x").hexdigest()
    )
    charter.cloud.uploads.put_chunk(
        subject, mine.id, offset=0, chunk=data, sha256=hashlib.sha256(data).hexdigest()
    )
    theirs = charter.cloud.uploads.begin(
        other, "gallery", size=100, sha256=hashlib.sha256(b"y").hexdigest()
    )
    folder = charter.settings.data_dir / "cloud" / "uploads"
    charter.rights.delete_account(subject, actor="test")
    assert not (folder / f"{mine.id}.part").exists()
    assert (folder / f"{theirs.id}.part").exists()
    assert charter.rights.verify_erasure(subject).clean
