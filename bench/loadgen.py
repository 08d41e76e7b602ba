"""
HTTP load for the benches: ``wrk`` when installed (a C load generator, so the client's own CPU
does not eat the server's share of a small machine), and the server's CPU per request read
from ``/proc/<pid>/stat`` (less noisy than a rate on a shared machine).

``wrk`` runs one thread and ``CONNECTIONS`` keep-alive connections; a Lua script sends each
request of a prepared list in turn (method, path, headers, body), so a route that needs a
different subject per request is driven as the Python clients drive it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 4


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
    lines = ["local calls = {}"]
    for call in calls:
        headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in call.headers.items()
        )
        body = _lua_string(call.body) if call.body else "nil"
        lines.append(
            "calls[#calls + 1] = wrk.format("
            f"{_lua_string(call.method)}, {_lua_string(call.path)}, {{{headers}}}, {body})"
        )
    lines += [
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
