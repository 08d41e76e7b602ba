"""A throwaway PostgreSQL cluster of the installed server (initdb into a temporary folder),
for tests that must change server settings or kill the postmaster."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def server_bin() -> Path | None:
    """The installed server's binaries (pg_config, else Debian's layout)."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(
            subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        if (found / "initdb").exists():
            return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class TempCluster:
    """initdb, start (with chosen settings), kill -9 and restart one cluster."""

    def __init__(self) -> None:
        bindir = server_bin()
        if bindir is None:
            pytest.skip("no PostgreSQL server binaries (initdb) installed")
        self.bin = bindir
        # Under /tmp, not pytest's tmp_path: the server's user must be able to reach it.
        root = Path(tempfile.mkdtemp(prefix="charter-pg-"))
        self.root = root
        self.data = root / "pgdata"
        self.sockets = root / "sockets"
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            if shutil.which("runuser") is None:
                pytest.skip("running PostgreSQL as root needs runuser and a postgres user")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        for folder in (root, self.sockets):
            folder.mkdir(parents=True, exist_ok=True)
            if self.run_as:
                shutil.chown(folder, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None
        done = subprocess.run(
            [
                *self.run_as,
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip("initdb failed on this machine")

    @property
    def url(self) -> str:
        """The cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, **settings: str) -> None:
        """Start the postmaster with ``settings`` (``-c name=value``) and wait until ready
        (after a kill, until the old backends are gone and it can start)."""
        options = [f"-c{k}={v}" for k, v in {"listen_addresses": "127.0.0.1", **settings}.items()]
        deadline = time.monotonic() + 90
        while True:
            self.process = subprocess.Popen(
                [
                    *self.run_as,
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.sockets),
                    *options,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while self.process.poll() is None:
                ready = subprocess.run(
                    [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                    check=False,
                )
                if ready.returncode == 0:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError("the temporary PostgreSQL did not start")
                time.sleep(0.1)  # polling the server's start
            if time.monotonic() > deadline:
                raise RuntimeError("the temporary PostgreSQL did not start")
            time.sleep(0.2)  # it exited at once: the killed cluster's backends are still leaving

    def postmaster_pid(self) -> int:
        """The postmaster's process id (from its pid file)."""
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster (a crash: no shutdown checkpoint)."""
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(30)
        # its backends notice the lost postmaster and exit; wait until the port is free
        deadline = time.monotonic() + 60
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def remove(self) -> None:
        """Stop the cluster and delete its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def stop(self) -> None:
        """Stop the cluster (fast shutdown) if it runs."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.kill(self.postmaster_pid(), signal.SIGINT)
            except (FileNotFoundError, ProcessLookupError):
                self.process.kill()
            self.process.wait(60)
