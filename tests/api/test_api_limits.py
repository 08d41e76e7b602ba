"""Request bodies are bounded while they stream: 413 in the one error shape, before any
authentication work, with the route's limit in the message (issue: holding under exhaustion)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import live_server
from hypothesis import given
from hypothesis import strategies as st

from charter.api.limits import MIB, ROUTE_LIMITS, limit_for, message
from charter.config import Settings
from charter.errors import ConfigError

LOGIN = "/v1/account/login"


def _too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.json() == {
        "error": {"code": "too_large", "message": message(limit), "field": None}
    }


def test_declared_length_over_the_default_is_413_before_reading(client, charter) -> None:
    limit = charter.settings.max_body_bytes
    body = b'{"identifier": "' + b"a" * limit + b'"}'
    _too_large(
        client.post(LOGIN, content=body, headers={"Content-Type": "application/json"}), limit
    )


def test_streamed_body_over_the_limit_is_413_once_passed(client, charter) -> None:
    limit = charter.settings.max_body_bytes
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(4 * limit // 65_536):
            sent.append(65_536)
            yield b"x" * 65_536

    json_body = {"Content-Type": "application/json"}  # else 415 before a byte is read
    _too_large(client.post("/v1/subjects", content=chunks(), headers=json_body), limit)
    assert sum(sent) > limit  # no Content-Length: the limit was found while streaming


def test_bodies_under_the_limit_reach_the_route(client) -> None:
    answer = client.post(LOGIN, json={"identifier": "nobody@example.org", "password": "x" * 20})
    assert answer.status_code != 413


def test_collect_keeps_its_larger_limit(api, client) -> None:
    key = api.key("cloud")
    body = b'{"events": [' + b" " * (2 * MIB) + b"]}"
    answer = client.post(
        "/v1/collect", content=body, headers={**key, "Content-Type": "application/json"}
    )
    assert answer.status_code == 422  # parsed (an empty batch), not refused for its size


def test_the_default_comes_from_settings() -> None:
    assert Settings.from_env({"CHARTER_MAX_BODY_BYTES": "4096"}).max_body_bytes == 4096
    assert Settings.from_env({}).max_body_bytes == MIB


@pytest.mark.parametrize("bad", ["0", "-1", "lots", "1.5"])
def test_a_bad_default_is_a_clear_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="CHARTER_MAX_BODY_BYTES"):
        Settings.from_env({"CHARTER_MAX_BODY_BYTES": bad})


@given(st.sampled_from(sorted(ROUTE_LIMITS)), st.integers(1, 64 * MIB))
def test_routes_keep_their_own_limit_whatever_the_default(path: str, default: int) -> None:
    assert limit_for(path, default) == ROUTE_LIMITS[path]
    assert limit_for(path + "/", default) == ROUTE_LIMITS[path]
    assert limit_for("/v1/subjects", default) == default


def test_openapi_documents_413_and_400_on_every_route_with_a_body(client) -> None:
    spec = client.get("/openapi.json").json()
    with_body = [
        (path, op)
        for path, ops in spec["paths"].items()
        for op in ops.values()
        if isinstance(op, dict) and "requestBody" in op
    ]
    assert len(with_body) > 20
    for path, op in with_body:
        assert {"400", "413"} <= set(op["responses"]), path


# -- over real HTTP: memory stays bounded ---------------------------------------------------


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with live_server(tmp_path / "data") as running:
        yield running


def test_big_bodies_leave_the_server_small(server: tuple[str, int]) -> None:
    base, pid = server
    size = (200 if os.environ.get("CHARTER_TEST_SLOW") == "1" else 50) * MIB

    def stream() -> Iterator[bytes]:
        block = b"x" * MIB
        for _ in range(size // MIB):
            yield block

    with httpx.Client(base_url=base, timeout=30) as http:
        declared = http.post(
            LOGIN, content=b"x" * (2 * MIB), headers={"Content-Type": "application/json"}
        )
        _too_large(declared, MIB)
        try:
            streamed = http.post(
                LOGIN, content=stream(), headers={"Content-Type": "application/json"}
            )
            _too_large(streamed, MIB)
        except httpx.TransportError:
            pass  # the server may close the connection once it has answered 413
        assert http.get("/healthz").status_code == 200
    assert _rss_mib(pid) < 200
