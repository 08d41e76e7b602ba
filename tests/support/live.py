"""Servers for tests over HTTP: a real ``charter serve`` in a separate process, or an ASGI
app served by uvicorn in a thread of the test."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx


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


class Served:
    """An ASGI app served by uvicorn in a thread, on a socket listening before it starts."""

    def __init__(self, sock: socket.socket, app: Any) -> None:
        import uvicorn  # noqa: PLC0415 - only threaded servers need it here

        self.sock = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )

    def __enter__(self) -> Served:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def listening_socket() -> tuple[socket.socket, str]:
    """A loopback socket already listening, and its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
