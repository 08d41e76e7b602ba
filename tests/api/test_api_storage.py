"""A full disk: a clear 507 ``storage_full`` with ``Retry-After`` (never a generic 500),
health says so, writes resume once space returns, without a restart, and nothing
acknowledged before is lost."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api_support import Api
from sqlalchemy.exc import OperationalError

from charter.asgi import create_app
from charter.store.faults import is_storage_full
from charter.testing import open_test_charter

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def _sqlite_full() -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = 13  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        OperationalError("INSERT", {}, _sqlite_full()),
        OperationalError("INSERT", {}, psycopg.errors.DiskFull("could not extend file")),
    ],
    ids=["enospc", "edquot", "sqlite_full", "postgres_disk_full"],
)
def test_full_storage_is_recognised_on_every_backend(exc: BaseException) -> None:
    assert is_storage_full(exc)
    try:
        raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_storage_full(wrapped)


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.EACCES, "Permission denied"),
        OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")),
        OperationalError("INSERT", {}, psycopg.errors.QueryCanceled("timeout")),
        ValueError("no"),
    ],
)
def test_other_failures_are_not_storage_full(exc: BaseException) -> None:
    assert not is_storage_full(exc)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as out:
        block = b"\0" * (1 << 16)
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_disk_answers_507_and_recovers_without_restart(small_disk: Path) -> None:
    charter = open_test_charter(small_disk / "data")
    try:
        app = create_app(charter)
        with TestClient(app) as client:
            api = Api(client, charter, charter.credentials)
            key = api.key("cloud")
            subject = api.subject(key)
            api.switch(subject, {"cloud.authorization": True}, api.token(subject))

            def collect(text: str) -> Any:
                event = {
                    "subject_id": subject,
                    "data_type": "notes",
                    "purpose": "app_functionality",
                    "value": text,
                }
                return client.post("/v1/collect", json={"events": [event]}, headers=key)

            first = collect("kept before the disk filled")
            assert first.status_code == 200 and first.json()["accepted"] == 1, first.text
            filler = _fill(small_disk)
            failed = []
            for _ in range(20):  # a few writes may still fit in pages already allocated
                answer = collect(uuid.uuid4().hex * 500)
                if answer.status_code != 200:
                    failed.append(answer)
                    break
            assert failed, "the disk never filled"
            full = failed[0]
            assert full.status_code == 507, full.text
            assert full.json()["error"]["code"] == "storage_full"
            assert "storage is full" in full.json()["error"]["message"]
            assert full.headers["Retry-After"].isdigit()
            assert client.get("/healthz").json() == {"status": "degraded", "storage": "full"}
            filler.unlink()
            again = collect("written after space returned")
            assert again.status_code == 200 and again.json()["accepted"] == 1, again.text
            read = client.get(
                f"/v1/subjects/{subject}/records",
                params={"service": "cloud", "purpose": "app_functionality"},
                headers=key,
            )
            values = [r["value"] for r in read.json()["records"]]
            assert "kept before the disk filled" in values
            assert "written after space returned" in values
    finally:
        charter.close()
