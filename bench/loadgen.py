"""
HTTP load for the benches: ``wrk`` when installed (a C load generator, so the client's own CPU
does not eat the server's share of a small machine), and the server's CPU per request read
from ``/proc/<pid>/stat`` (less noisy than a rate on a shared machine).

``wrk`` runs one thread and ``CONNECTIONS`` keep-alive connections; a Lua script sends each
request of a prepared list in turn (method, path, headers, body), so a route that needs a
different subject per request is driven as the Python clients drive it.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONNECTIONS = 4
CHARTER_SERVE = """
import sys
from pathlib import Path
from charter.app import Charter
from charter.asgi import create_app
from charter.cli import server
from charter.config import Settings
app = create_app(Charter.open(Settings.from_env(data_dir=Path(sys.argv[1]))))
server.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
"""A server as ``charter serve`` runs it (the whole app on ``charter.cli.server.run``: its
protocol, accept loop and admission), for ``python -c CHARTER_SERVE DATA_DIR PORT``."""


def wrk_path() -> str | None:
    """The ``wrk`` binary, or None (the benches then fall back to httpx clients)."""
    return shutil.which("wrk")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One load run: how many requests were answered, in how long, how many not 2xx."""

    requests: int
    seconds: float
    failed: int
    server_cpu_seconds: float

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_seconds * 1000 / max(self.requests, 1)


@dataclass(frozen=True)
class Call:
    """One prepared request."""

    method: str
    path: str
    headers: dict[str, str]
    body: str = ""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _script(calls: Sequence[Call]) -> str:
    """The Lua script sending ``calls`` in turn. They are formatted in ``init``, once wrk
    has set its ``Host`` header (formatted earlier, they would have none: HTTP/1.1 requires
    it, and ``charter serve``'s h11 parser answers 400 without it)."""
    lines = ["local calls = {}", "init = function(args)"]
    for call in calls:
        headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in call.headers.items()
        )
        body = _lua_string(call.body) if call.body else "nil"
        lines.append(
            "  calls[#calls + 1] = wrk.format("
            f"{_lua_string(call.method)}, {_lua_string(call.path)}, {{{headers}}}, {body})"
        )
    lines += [
        "end",
        "local i = 0",
        "request = function()",
        "  i = i % #calls + 1",
        "  return calls[i]",
        "end",
    ]
    return "\n".join(lines) + "\n"


def run_wrk(url: str, calls: Sequence[Call], seconds: float, server_pid: int) -> Run:
    """Send ``calls`` in turn, over and over, for ``seconds`` on CONNECTIONS connections."""
    return _run_script(url, _script(calls), seconds, server_pid)


def _run_script(url: str, lua: str, seconds: float, server_pid: int) -> Run:
    """Run wrk with the Lua script ``lua`` for ``seconds`` on CONNECTIONS connections; the
    requests, their time, the failed ones and the server's CPU seconds meanwhile."""
    wrk = wrk_path()
    assert wrk is not None, "wrk is not installed"
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        before = cpu_seconds(server_pid)
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{CONNECTIONS}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        used = cpu_seconds(server_pid) - before
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    assert done is not None, out
    elapsed = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    assert errors is None or "timeout 0" in errors.group(0), errors.group(0)
    return Run(int(done.group(1)), elapsed, int(failed.group(1)) if failed else 0, used)


def _chain_script(path: str, headers: dict[str, str], form: str, tokens: Sequence[str]) -> str:
    """A script that rotates refresh-token chains: each request takes a token from the pool,
    each answer puts the next one (``"refresh_token"`` of its JSON body) back. wrk calls
    ``response`` for a connection before that connection's next ``request``, so a pool larger
    than CONNECTIONS never runs dry while every answer carries a token (wrk calls ``request``
    once more before the run to check the script: that token is never sent)."""
    head = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    lines = [
        "local pool = {" + ", ".join(_lua_string(t) for t in tokens) + "}",
        f"local headers = {{{head}}}",
        "lost = 0",
        "request = function()",
        "  local token = table.remove(pool)",
        "  if token == nil then",
        "    lost = lost + 1",
        "    token = 'pool-empty'",
        "  end",
        f"  return wrk.format('POST', {_lua_string(path)}, headers, "
        f"string.format({_lua_string(form)}, token))",
        "end",
        "response = function(status, headers, body)",
        '  local token = body:match(\'"refresh_token"%s*:%s*"([^"]+)"\')',
        "  if token ~= nil then table.insert(pool, token) end",
        "end",
    ]
    return "\n".join(lines) + "\n"


def run_wrk_chains(
    url: str,
    path: str,
    headers: dict[str, str],
    form: str,
    tokens: Sequence[str],
    seconds: float,
    server_pid: int,
) -> Run:
    """POST ``form`` (a ``string.format`` pattern with one ``%s``: the token) to ``path`` for
    ``seconds`` on CONNECTIONS connections, each request spending one token of a pool of
    rotating chains (``tokens``, more than CONNECTIONS of them) and putting the answer's next
    ``refresh_token`` back. Answers without a token (errors) end their chain."""
    assert len(tokens) > CONNECTIONS, "one chain per connection, and one for wrk's check"
    return _run_script(url, _chain_script(path, headers, form, tokens), seconds, server_pid)


@dataclass(frozen=True)
class Probes:
    """What the probe connections saw: the latency of every answer 200 (seconds), and how
    many were shed (503 with ``Retry-After``) or answered otherwise."""

    admitted: list[float]
    shed: int
    other: int


def start_probes(
    url: str,
    path: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    *,
    connect: bool = False,
) -> subprocess.Popen[str]:
    """Start ``connections`` probe clients in a child process (so their CPU is not the
    bench's). With ``connect`` each opens its connection first (waiting to be accepted);
    without, they all connect at :func:`go` (a connection storm, each request timed from
    when it is written, the wait to be accepted included). Then each sends ``GET path``,
    reads the whole answer and sends the next at once, like a ``wrk`` connection, for
    ``seconds``. A probe's latency is from just before its request is sent to the return of
    the ``select`` that found the answer's last bytes (so a probe's answer is not charged
    with the time the child spent on the other answers of that ``select``). Read the result with :func:`probe_results`."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    host = url.removeprefix("http://")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n"
    child = subprocess.Popen(
        [sys.executable, __file__, host, str(connections), str(seconds), str(int(connect))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(request.replace("\r\n", "\\r\\n") + "\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "ready", "the probe child did not start"
    return child


def go(child: subprocess.Popen[str]) -> None:
    """Let the connected probes of :func:`start_probes` begin."""
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


def probe_results(child: subprocess.Popen[str]) -> Probes:
    """Wait for the probes of :func:`start_probes` and return what they saw."""
    out, _ = child.communicate(timeout=600)
    assert child.returncode == 0, "the probes failed"
    data = json.loads(out)
    return Probes(data["admitted"], data["shed"], data["other"])


def _answer_length(buffer: bytes) -> tuple[int, int] | None:
    """(status, total bytes) of the HTTP answer at the head of ``buffer``, once its headers
    are in; None before."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    length = next(
        (
            int(line.partition(":")[2])
            for line in head
            if line.lower().startswith("content-length:")
        ),
        None,
    )
    assert length is not None, "an answer without Content-Length: " + head[0]
    return status, end + 4 + length


def _connect(host: str) -> socket.socket:
    name, _, port = host.partition(":")
    conn = socket.create_connection((name, int(port)))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.setblocking(False)
    return conn


def _probe_main(host: str, connections: int, seconds: float, connect: bool) -> None:
    """The probe child (see :func:`start_probes`)."""
    request = sys.stdin.readline().rstrip("\n").replace("\\r\\n", "\r\n").encode()
    conns = [_connect(host) for _ in range(connections if connect else 0)]
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    # a connection storm: connect() returns once the kernel has queued the connection for
    # the server to accept (the listen backlog), so this loop does not wait for the server
    conns += [_connect(host) for _ in range(connections - len(conns))]
    selector = selectors.DefaultSelector()
    states: dict[socket.socket, list[Any]] = {}
    for conn in conns:
        selector.register(conn, selectors.EVENT_READ)
        states[conn] = [b"", 0.0]
    admitted: list[float] = []
    shed = other = 0
    end = time.perf_counter() + seconds
    for conn, state in states.items():
        state[1] = time.perf_counter()
        conn.sendall(request)
    while states:
        ready = selector.select(1.0)
        now = time.perf_counter()  # the answers were in when select returned
        for key, _ in ready:
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            state = states[conn]
            chunk = conn.recv(65536)
            assert chunk, "the server closed a probe's connection"
            state[0] += chunk
            answer = _answer_length(state[0])
            if answer is None or len(state[0]) < answer[1]:
                continue
            status = answer[0]
            if status == 200:
                admitted.append(now - state[1])
            elif status == 503 and b"\r\nretry-after:" in state[0].lower():
                shed += 1
            else:
                other += 1
            state[0] = state[0][answer[1] :]
            if now >= end:
                selector.unregister(conn)
                conn.close()
                del states[conn]
                continue
            state[1] = time.perf_counter()
            conn.sendall(request)
    json.dump({"admitted": admitted, "shed": shed, "other": other}, sys.stdout)


if __name__ == "__main__":
    _probe_main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1")
