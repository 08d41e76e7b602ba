"""Helpers for the API tests, imported by the tests/api modules and their conftest."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from charter.app import Charter
from charter.services import Credentials

# The installed Starlette warns at import when its TestClient runs on ``httpx`` rather
# than ``httpx2``; the suite turns warnings into errors, so silence exactly that one here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["Api"]


@dataclass
class Api:
    """Helpers over a TestClient: credentials, subjects and common calls."""

    client: TestClient
    charter: Charter
    credentials: Credentials

    def key(self, service: str) -> dict[str, str]:
        """Headers with a fresh service credential."""
        return {"Authorization": "Bearer " + self.credentials.create_api_key(service).secret}

    def token(self, subject_id: str, ttl_seconds: int = 24 * 3600) -> dict[str, str]:
        """Headers with a fresh user token for a subject."""
        issued = self.credentials.issue_user_token(subject_id, ttl_seconds=ttl_seconds)
        return {"Authorization": "Bearer " + issued.secret}

    def subject(self, headers: dict[str, str], kind: str = "account", market: str = "de") -> str:
        """Create a subject over the API and return its id."""
        response = self.client.post(
            "/v1/subjects", json={"kind": kind, "market": market}, headers=headers
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def switch(
        self, subject_id: str, changes: dict[str, bool], headers: dict[str, str]
    ) -> dict[str, Any]:
        """Change switches and return the response body."""
        response = self.client.put(
            f"/v1/subjects/{subject_id}/switches", json={"changes": changes}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def collect(self, events: list[dict[str, Any]], headers: dict[str, str]) -> dict[str, Any]:
        """Collect a batch and return the response body."""
        response = self.client.post("/v1/collect", json={"events": events}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextlib.contextmanager
def live_server(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """``charter serve`` (no demo) over ``data_dir`` on a free port, as a separate process;
    yields its base URL and process id, and stops it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "charter.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--no-demo",
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)  # polling the server's start, not waiting for an effect
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
