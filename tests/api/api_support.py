"""Helpers for the API tests, imported by the tests/api modules and their conftest."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from charter.app import Charter
from charter.services.credentials import Credentials

# The installed Starlette warns at import when its TestClient runs on ``httpx`` rather
# than ``httpx2``; the suite turns warnings into errors, so silence exactly that one here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

from support.live import live_server

__all__ = ["Api", "live_server"]


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
