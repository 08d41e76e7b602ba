"""
``charter.client`` against a real ``charter serve`` (another process, real HTTP): two devices
of one person sync, a stale edit comes back as a conflict with both versions, a large file
goes up in chunks and an interrupted upload resumes from where the server has it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.app import Charter
from charter.client import ApiError, CloudClient, ConflictError
from charter.config import Settings
from support.live import live_server

MIB = 1 << 20


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A served deployment with one person who switched Cloud on: base URL and two device
    tokens."""
    data = tmp_path / "data"
    Charter.init(data)
    charter = Charter.open(Settings(data_dir=data))
    subject = charter.gate.create_subject("account", "de", actor="test").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    phone = charter.credentials.issue_user_token(subject, actor="test").secret
    tablet = charter.credentials.issue_user_token(subject, actor="test").secret
    charter.close()
    with live_server(data) as (base, _):
        yield base, phone, tablet


def test_two_devices_sync_and_a_stale_edit_is_a_conflict(server: tuple[str, str, str]) -> None:
    base, phone_token, tablet_token = server
    with CloudClient(base, phone_token) as phone, CloudClient(base, tablet_token) as tablet:
        start = tablet.changes().token
        note = phone.upload("notes", b"milk")
        seen = tablet.changes(start)
        assert [c.id for c in seen.changes] == [note.id]
        assert tablet.download(note.id) == b"milk"
        mine = tablet.update(seen.changes[0], b"milk, eggs")
        with pytest.raises(ConflictError) as lost:
            phone.update(note, b"milk, bread")
        assert lost.value.current.version == mine.version == 2
        assert lost.value.current_content == b"milk, eggs"
        merged = phone.update(lost.value.current, b"milk, eggs, bread")
        assert tablet.download(note.id) == b"milk, eggs, bread" and merged.version == 3
        gone = phone.delete(merged)
        assert gone.state == "trashed"
        assert tablet.restore(note.id).state == "live"
        with pytest.raises(ApiError) as refused:
            phone.upload("faxes", b"x")
        assert refused.value.status == 422 and "use one of" in refused.value.message


def test_a_large_file_goes_up_in_chunks_and_an_interrupted_upload_resumes(
    server: tuple[str, str, str], tmp_path: Path
) -> None:
    base, phone_token, tablet_token = server
    data = hashlib.shake_256(b"video").digest(9 * MIB + 5)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with CloudClient(base, phone_token) as phone:
        item = phone.upload_file("gallery", path)
        assert item.size == len(data)
        begun = phone.transport.request(
            "POST",
            "/v1/cloud/recordings/uploads",
            json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        ).json()
        phone.transport.request(  # one chunk, then the phone goes away
            "PUT",
            f"/v1/cloud/uploads/{begun['id']}",
            params={"offset": 0},
            content=data[:MIB],
            headers={"Content-Digest": _digest(data[:MIB])},
        )
    with CloudClient(base, phone_token) as again, CloudClient(base, tablet_token) as tablet:
        with path.open("rb") as f:
            resumed = again.upload_stream("recordings", f, len(data), upload_id=begun["id"])
        assert tablet.download(resumed.id) == data
        assert tablet.download(item.id) == data


def _digest(chunk: bytes) -> str:
    import base64  # noqa: PLC0415

    return "sha-256=:" + base64.b64encode(hashlib.sha256(chunk).digest()).decode() + ":"
