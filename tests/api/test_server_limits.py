"""Slow and many clients against a real ``charter serve``: headers must arrive in time, and
a flood of slow connections cannot lock out a health check (the slowest are evicted)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import live_server

from charter.cli.server import ServerLimits
from charter.errors import ConfigError

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: charter\r\nX-Slow: "
"""Request headers that never end."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    env = {"CHARTER_HEADER_TIMEOUT": "1", "CHARTER_MAX_CONNECTIONS": "20"}
    with live_server(tmp_path / "data", env) as running:
        yield running


def _slow_client(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(PARTIAL)
    return sock


def _closed_by_server(sock: socket.socket, within: float = 30) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_headers_that_never_end_are_cut_off(server: tuple[str, int]) -> None:
    base, _ = server
    sock = _slow_client(base)
    try:
        assert _closed_by_server(sock)
    finally:
        sock.close()
    assert httpx.get(base + "/healthz").status_code == 200


def test_a_flood_of_slow_clients_cannot_lock_out_health(tmp_path: Path) -> None:
    # Headers may take two minutes here: any connection closed sooner was evicted by the cap.
    env = {"CHARTER_HEADER_TIMEOUT": "120", "CHARTER_MAX_CONNECTIONS": "20"}
    with live_server(tmp_path / "data", env) as (base, _):
        slow = [_slow_client(base) for _ in range(60)]  # three times the cap
        try:
            with httpx.Client(base_url=base, timeout=10) as http:
                for _ in range(5):
                    assert http.get("/healthz").status_code == 200
            evicted = [_closed_by_server(sock, within=10) for sock in slow[:40]]
            assert all(evicted)  # the oldest slow clients made room for the newcomers
        finally:
            for sock in slow:
                sock.close()


def test_limits_come_from_the_environment() -> None:
    limits = ServerLimits.from_env(
        {
            "CHARTER_HEADER_TIMEOUT": "2.5",
            "CHARTER_BODY_TIMEOUT": "9",
            "CHARTER_MAX_CONNECTIONS": "33",
        }
    )
    assert limits == ServerLimits(2.5, 9.0, 33)
    assert ServerLimits.from_env({}).max_connections >= 16


@pytest.mark.parametrize("bad", ["0", "-3", "soon"])
def test_bad_limits_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError, match="CHARTER_HEADER_TIMEOUT"):
        ServerLimits.from_env({"CHARTER_HEADER_TIMEOUT": bad})
