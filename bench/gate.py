"""Benchmark: the gate's policy, collection (in process and over HTTP), purge, memory.

Usage: ``python bench/gate.py [--quick] [--http-only | --collect-only]``. Prints one figure per line as
``name: value unit``; ``--quick`` runs everything at a tenth of the size (under a minute).

Figures and targets (issue 14: each path beside the limit it is measured against, in the
same run, so the ratios hold on a noisy machine; the limits are bench/limits.py):

- ``policy_decisions_per_s`` (>= 500,000): pure ``policy.decide_collect`` on one core, with
  every rule of the built-in catalog compiled in (the deployment-named markets set too), over a
  mix of decisions on rows the rules narrow and rows they do not, allowed and refused;
  ``policy_decisions_no_rules_per_s`` is the same mix with the catalog's rules left out.
- ``raw_insert_rows_per_s``, ``raw_insert_indexed_rows_per_s``, ``durable_commits_per_s``:
  the machine's limits (plain sqlite3, WAL, ``synchronous=FULL``; see bench/limits.py).
- ``collect_inprocess_events_per_s`` (>= 0.25 x ``raw_insert_rows_per_s``): ``gate.collect``
  in batches of 1,000 field-encrypted events (cloud ``notes``, 100 subjects) into SQLite.
  Its floor is ``raw_insert_indexed_rows_per_s`` (the records table's own B-trees), not
  the plain rowid loop its target is set against.
- ``collect_http_events_per_s`` (>= 0.6 x in process; the route parses a well-formed body
  with orjson in one pass, the pydantic model only for bodies it refuses; the same batches
  as in process: 1,000 cloud notes over 100 subjects) and
  ``collect_http_p99_ms``: a uvicorn
  server (``uvicorn.run`` with its defaults: uvloop and httptools when installed; ``charter
  serve`` adds its bounded h11 protocol) on 127.0.0.1, 4 concurrent clients posting
  1,000-event batches.
- ``http_floor_req_per_s``: ``GET /v1/whoami`` (authenticated, nothing else) on the same
  server, 4 clients, a user token as the switch changes use.
- ``switch_http_per_s`` (>= 0.4 x the floor, and >= 1,000): PUT switches (withdraw/grant)
  over HTTP, 4 clients.
- The ratios: ``collect_inprocess_ratio_of_raw_insert``, ``collect_http_ratio_of_inprocess``,
  ``switch_http_ratio_of_floor`` and (information) ``switch_http_ratio_of_durable_commits``.
- ``purge_1m_seconds`` (< 20): ``jobs.purge_expired`` over 1,000,000 expired records.
- ``rss_growth_mb`` (< 100): RSS growth while collecting 1,000,000 events in process.
- ``server_rss_mb`` (< 150): RSS of an idle server after start-up (numpy and OpenDP are
  imported on first use, not at start-up: tests/api/test_api_startup_imports.py).
- ``overload_admitted_p99_ms`` (within 2x ``overload_calm_p99_ms``, the p99 at 4 clients, so
  ``overload_p99_ratio`` <= 2; issue 13) and ``overload_shed_fraction``: switch reads from
  200 clients at once against ``charter serve``'s server, admission control shedding the
  excess with 503; 40 of the 200 clients time every answer (method: ``bench_overload``; needs ``wrk``);
  ``overload_probes_admitted`` (how many answers 200 the p99 is over, of all answers),
  ``overload_served_per_s`` (answers 200 a second) and ``overload_accept_s`` (how long the
  server took to accept the flood's connections).
- ``big_body_rss_mb`` (< 200): server RSS after bodies of 200 MB to a JSON route.

``--http-only`` leaves out the purge and the memory growth (the slow figures);
``--overload-only`` runs only the overload figures (its own server and subjects);
``--collect-only`` runs only the raw-insert limits, the two collect figures and their ratios.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import limits  # bench/limits.py: what the machine can do, measured in the same run
import loadgen  # bench/loadgen.py: wrk when installed, server CPU per request
from sqlalchemy import insert

from charter.app import Charter
from charter.catalog import load_catalog
from charter.catalog.promises import deployment_rules
from charter.config import Settings
from charter.gate import Event, new_id
from charter.gate.jobs import purge_expired
from charter.policy import SubjectKind, compile_catalog, decide_collect
from charter.store import schema as t
from charter.taxonomy import Purpose

BATCH = 1_000
CLIENTS = 4
COLLECT_SUBJECTS = 100
"""Subjects a collect batch spreads over, in process and over HTTP alike (the HTTP server has
200 subjects, for the switch figures; its collect bodies name the first 100)."""
SERVER = loadgen.CHARTER_SERVE
"""The HTTP figures' server: what ``charter serve`` runs (``charter.cli.server.run``: its
protocol, accept loop and admission, the start-up heap frozen), not uvicorn's defaults."""


def report(name: str, value: float, unit: str) -> None:
    """Print one figure."""
    text = f"{value:.0f}" if value >= 1_000 else f"{value:.2f}"
    print(f"{name}: {text} {unit}", flush=True)


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process in MiB (Linux)."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_charter(data_dir: Path, clock: Callable[[], int] | None = None) -> Charter:
    """A fresh deployment in ``data_dir``."""
    if not (data_dir / "keyring.json").exists():
        Charter.init(data_dir)
    settings = Settings(data_dir=data_dir)
    return Charter.open(settings, clock=clock) if clock else Charter.open(settings)


def consenting_subjects(charter: Charter, n: int, service: str = "cloud") -> list[str]:
    """``n`` German accounts that authorised ``service``."""
    ids = []
    for _ in range(n):
        subject = charter.gate.create_subject("account", "de", actor="bench")
        charter.gate.set_switches(
            subject.id, {f"{service}.authorization": True}, source="user", actor="subject"
        )
        ids.append(subject.id)
    return ids


POLICY_MIX: tuple[tuple[str, str, Purpose, str], ...] = (
    ("cloud", "notes", Purpose.APP_FUNCTIONALITY, "de"),
    ("get_apps", "gaid", Purpose.PERSONALIZATION, "in"),
    ("get_apps", "gaid", Purpose.PERSONALIZATION, "es"),  # refused by a market rule
    ("get_apps", "points_redeem_records", Purpose.APP_FUNCTIONALITY, "in"),
    ("get_apps", "points_redeem_records", Purpose.APP_FUNCTIONALITY, "ru"),  # refused
    ("video", "comments", Purpose.PERSONALIZATION, "ru"),
    ("cloud", "browsing_history", Purpose.APP_FUNCTIONALITY, "de"),
    ("themes", "search_history", Purpose.PERSONALIZATION, "de"),
)
"""(service, data type, purpose, market): the decisions the policy benchmark cycles through."""


def bench_policy(n: int) -> None:
    catalog = load_catalog()
    ruled = compile_catalog(
        catalog, {rule: ("sa",) for rule in deployment_rules(catalog)}
    )  # every rule in force
    bare = compile_catalog(
        replace(
            catalog,
            services={k: s.model_copy(update={"rules": ()}) for k, s in catalog.services.items()},
        )
    )
    switches = dict.fromkeys(ruled.default_switches(), True)
    now = time.time_ns() // 1000
    kind = SubjectKind.ACCOUNT
    cases = [POLICY_MIX[i % len(POLICY_MIX)] for i in range(n)]
    for name, compiled in (
        ("policy_decisions_per_s", ruled),
        ("policy_decisions_no_rules_per_s", bare),
    ):
        start = time.perf_counter()
        for service, data_type, purpose, market in cases:
            decide_collect(
                compiled,
                service=service,
                data_type=data_type,
                purpose=purpose,
                kind=kind,
                market=market,
                switches=switches,
                now=now,
            )
        report(name, n / (time.perf_counter() - start), "decisions/s")


def _events(subjects: list[str], n: int, offset: int = 0) -> list[Event]:
    return [
        Event(
            subjects[(offset + i) % len(subjects)],
            "cloud",
            "notes",
            Purpose.APP_FUNCTIONALITY,
            {"title": f"note {offset + i}", "body": "Buy milk, eggs and bread."},
        )
        for i in range(n)
    ]


def bench_collect_inprocess(total: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        charter = open_charter(Path(tmp))
        subjects = consenting_subjects(charter, COLLECT_SUBJECTS)
        charter.gate.collect(
            _events(subjects, BATCH), actor="service:cloud", service="cloud"
        )  # warm up
        batches = [_events(subjects, BATCH, b * BATCH) for b in range(total // BATCH)]
        start = time.perf_counter()
        for batch in batches:
            result = charter.gate.collect(batch, actor="service:cloud", service="cloud")
            assert result.accepted == BATCH
        rate = total / (time.perf_counter() - start)
        report("collect_inprocess_events_per_s", rate, "events/s")
        charter.close()
        return rate


def bench_rss_growth(total: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        charter = open_charter(Path(tmp))
        subjects = consenting_subjects(charter, 1_000)
        charter.gate.collect(_events(subjects, BATCH), actor="service:cloud", service="cloud")
        gc.collect()
        before = rss_mb()
        for b in range(total // BATCH):
            charter.gate.collect(
                _events(subjects, BATCH, b * BATCH), actor="service:cloud", service="cloud"
            )
        gc.collect()
        report("rss_growth_mb", rss_mb() - before, "MiB")
        charter.close()


def bench_purge(total: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        charter = open_charter(Path(tmp))
        subject = charter.gate.create_subject("account", "de", actor="bench").id
        past = time.time_ns() // 1000 - 86_400_000_000
        engine = charter.stores.region("eu")
        chunk = 50_000
        for start_at in range(0, total, chunk):
            rows = [
                {
                    "id": new_id(),
                    "subject_id": subject,
                    "service": "advertisement",
                    "data_type": "advertising_data",
                    "qualifier": "identified",
                    "purposes": 8,
                    "protection": "plain",
                    "value": b"1",
                    "blob": None,
                    "source": None,
                    "collected_at": past - 1,
                    "expires_at": past,
                }
                for _ in range(min(chunk, total - start_at))
            ]
            with engine.begin() as conn:
                conn.execute(insert(t.records), rows)
        start = time.perf_counter()
        purged = purge_expired(charter.gate, regions=["eu"])
        elapsed = time.perf_counter() - start
        assert purged.records == total, purged
        report(
            "purge_1m_seconds" if total >= 1_000_000 else f"purge_{total // 1000}k_seconds",
            elapsed,
            "s",
        )
        charter.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A uvicorn server subprocess on a data directory."""

    def __init__(self, data_dir: Path, script: str = SERVER) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, str(data_dir), str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _run_clients(
    work: Callable[[httpx.Client, int], float], requests: int
) -> tuple[float, list[float]]:
    """Run ``requests`` calls over CLIENTS threads; returns (seconds, per-request latencies)."""
    per_client = requests // CLIENTS
    latencies: list[float] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(timeout=120) as http:
            got = [work(http, index * per_client + k) for k in range(per_client)]
        with lock:
            latencies.extend(got)

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    return time.perf_counter() - start, latencies


def bench_http(
    total_batches: int, switch_requests: int, collect_only: bool = False
) -> dict[str, float]:
    """The HTTP figures (collect, switch changes, the authenticated floor) by name; only
    the collect figures with ``collect_only``."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        charter = open_charter(data_dir)
        subjects = consenting_subjects(charter, 200)
        credentials = charter.credentials
        key = {"Authorization": "Bearer " + credentials.create_api_key("cloud").secret}
        tokens = {
            sid: {"Authorization": "Bearer " + credentials.issue_user_token(sid).secret}
            for sid in subjects
        }
        charter.close()
        server = Server(data_dir)
        try:
            time.sleep(0.5)
            report("server_rss_mb", rss_mb(server.process.pid), "MiB")
            bodies = []
            for b in range(total_batches):
                events = [
                    {
                        # the in-process batches' shape: 100 subjects, 10 events each
                        "subject_id": subjects[(b * BATCH + i) % COLLECT_SUBJECTS],
                        "data_type": "notes",
                        "purpose": "app_functionality",
                        "value": {"title": f"note {i}", "body": "Buy milk, eggs and bread."},
                    }
                    for i in range(BATCH)
                ]
                bodies.append(httpx.Request("POST", "/", json={"events": events}).content)
            with httpx.Client() as warm:
                assert (
                    warm.post(
                        server.url + "/v1/collect",
                        content=bodies[0],
                        headers={**key, "Content-Type": "application/json"},
                    ).status_code
                    == 200
                )

            def post(http: httpx.Client, n: int) -> float:
                started = time.perf_counter()
                response = http.post(
                    server.url + "/v1/collect",
                    content=bodies[n % len(bodies)],
                    headers={**key, "Content-Type": "application/json"},
                )
                assert response.status_code == 200 and response.json()["accepted"] == BATCH, (
                    response.text[:300]
                )
                return time.perf_counter() - started

            elapsed, latencies = _run_clients(post, total_batches)
            latencies.sort()
            figures["collect_http_events_per_s"] = len(latencies) * BATCH / elapsed
            report("collect_http_events_per_s", figures["collect_http_events_per_s"], "events/s")
            report(
                "collect_http_p99_ms",
                latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
                "ms",
            )

            def toggle(http: httpx.Client, n: int) -> float:
                sid = subjects[n % len(subjects)]
                started = time.perf_counter()
                value = (
                    n // len(subjects)
                ) % 2 == 1  # withdraw on the first pass, grant on the next
                response = http.put(
                    f"{server.url}/v1/subjects/{sid}/switches",
                    json={"changes": {"cloud.authorization": value}},
                    headers=tokens[sid],
                )
                assert response.status_code == 200, response.text[:300]
                return time.perf_counter() - started

            if collect_only:
                return figures
            if loadgen.wrk_path() is not None:
                _floor_and_switch_wrk(server, subjects, tokens, figures, switch_requests)
            else:
                print("http_generator: httpx (install wrk for a lighter client)", flush=True)
                pid = server.process.pid
                cpu = loadgen.cpu_seconds(pid)
                figures["http_floor_req_per_s"] = limits.http_floor_req_per_s(
                    server.url, tokens[subjects[0]], switch_requests, CLIENTS
                )
                floor_cpu = loadgen.cpu_seconds(pid) - cpu
                report("http_floor_req_per_s", figures["http_floor_req_per_s"], "requests/s")
                report("http_floor_server_cpu_ms", floor_cpu * 1000 / switch_requests, "ms")
                cpu = loadgen.cpu_seconds(pid)
                elapsed, latencies = _run_clients(toggle, switch_requests)
                switch_cpu = loadgen.cpu_seconds(pid) - cpu
                figures["switch_http_per_s"] = len(latencies) / elapsed
                report("switch_http_per_s", figures["switch_http_per_s"], "requests/s")
                report("switch_http_server_cpu_ms", switch_cpu * 1000 / len(latencies), "ms")
            bench_overload(server.url, subjects, tokens, switch_requests)
            bench_big_bodies(server, 20 if switch_requests >= 1_000 else 4)
        finally:
            server.stop()
    return figures


def _floor_and_switch_wrk(
    server: Server,
    subjects: list[str],
    tokens: dict[str, dict[str, str]],
    figures: dict[str, float],
    switch_requests: int,
) -> None:
    """The floor and the switch changes driven by ``wrk`` (4 connections, one run each)."""
    print(f"http_generator: wrk ({loadgen.CONNECTIONS} connections)", flush=True)
    seconds = 10.0 if switch_requests >= 1_000 else 4.0
    pid = server.process.pid
    floor_call = loadgen.Call("GET", "/v1/whoami", tokens[subjects[0]])
    loadgen.run_wrk(server.url, [floor_call], 1, pid)  # warm up
    floor = loadgen.run_wrk(server.url, [floor_call], seconds, pid)
    assert floor.failed == 0, floor
    figures["http_floor_req_per_s"] = floor.per_s
    report("http_floor_req_per_s", floor.per_s, "requests/s")
    report("http_floor_server_cpu_ms", floor.cpu_ms_per_request, "ms")
    # every subject withdraws on the first pass and grants again on the next, in turn
    calls = [
        loadgen.Call(
            "PUT",
            f"/v1/subjects/{sid}/switches",
            {**tokens[sid], "Content-Type": "application/json"},
            '{"changes":{"cloud.authorization":%s}}' % ("true" if grant else "false"),
        )
        for grant in (False, True)
        for sid in subjects
    ]
    # warm up (the region's database opened, the subjects' placement cached), then measure
    loadgen.run_wrk(server.url, calls, 1, pid)
    switch = loadgen.run_wrk(server.url, calls, seconds, pid)
    assert switch.failed == 0, switch
    figures["switch_http_per_s"] = switch.per_s
    report("switch_http_per_s", switch.per_s, "requests/s")
    report("switch_http_server_cpu_ms", switch.cpu_ms_per_request, "ms")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


FLOOD = 200
"""Clients at once in the overload figures: ``wrk`` holds FLOOD - PROBES of them."""

PROBES = 40
"""Of the FLOOD clients, the probes: they time every answer (see bench_overload)."""

PROBE_PROCESSES = 2
"""Processes the probes are spread over (so that a probe's own process lags little)."""

CALM = 4
"""Clients of the calm p99 the overload p99 is set against."""


def _listen_queue(port: int) -> tuple[int, int]:
    """(connections established to ``port``, of them still waiting in the listen socket's
    accept queue), from /proc/net/tcp (Linux; IPv4 loopback)."""
    established = queued = 0
    suffix = f":{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if not fields[1].endswith(suffix):
            continue
        if fields[3] == "0A":  # LISTEN: rx_queue is the accept queue
            queued = int(fields[4].partition(":")[2], 16)
        elif fields[3] == "01":
            established += 1
    return established, queued


def bench_overload(
    url: str, subjects: list[str], tokens: dict[str, dict[str, str]], n: int
) -> None:
    """
    The p99 of the admitted requests of FLOOD clients at once against the p99 of CALM
    clients (issue 13: "with 200 clients, the p99 of the requests admitted (target: within 2x
    the p99 at 4 clients)"), and the share of requests shed with 503.

    Method. Every client is a closed loop on one keep-alive connection: it sends a switch
    read (``GET /v1/subjects/{id}/switches``), reads the whole answer and sends the next at
    once, whatever the answer (a shed client retries at once, ignoring ``Retry-After``: the
    hardest client). Calm: CALM probe clients alone for a few seconds. Flood: FLOOD clients
    connecting together (a connection storm) for several seconds: ``wrk`` (C, light on the
    shared cores) holds FLOOD - PROBES of them and PROBES probe clients the rest. A probe
    (``loadgen.start_probes``) times every answer, from just before its request is sent to
    the return of the ``select`` that found the answer complete; the calm p99 is timed by the
    same code. The probes are clients like the others and admission draws the requests it
    serves at random (``charter.api.admission``), so the probes' admitted answers are a
    sample of all the admitted answers; the p99 is over all of theirs
    (``overload_probes_admitted``: hundreds to a thousand, not a handful). Python clients
    for the whole flood would saturate the client side of a 2-core machine and time their
    own lag. ``overload_shed_fraction`` is the share of every client's answers that were
    503; ``overload_accept_s`` is how long the server took to accept the flood's
    connections (the probes' answers are timed from their first request, the wait included).
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        print("overload: skipped (install wrk: apt-get install wrk)", flush=True)
        return
    sid = subjects[0]
    path = f"/v1/subjects/{sid}/switches"
    port = int(url.rpartition(":")[2])
    seconds = 10 if n >= 1_000 else 5
    calm_probes = loadgen.start_probes(url, path, tokens[sid], CALM, seconds / 2, connect=True)
    loadgen.go(calm_probes)
    calm = loadgen.probe_results(calm_probes)
    assert calm.shed == calm.other == 0, f"calm requests were refused: {calm}"
    probes = [
        loadgen.start_probes(url, path, tokens[sid], PROBES // PROBE_PROCESSES, seconds)
        for _ in range(PROBE_PROCESSES)
    ]
    load = subprocess.Popen(
        [
            wrk,
            "-t1",
            f"-c{FLOOD - PROBES}",
            f"-d{seconds}s",
            "-H",
            f"Authorization: {tokens[sid]['Authorization']}",
            url + path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    for child in probes:
        loadgen.go(child)
    flooded = time.perf_counter()
    while load.poll() is None:
        established, queued = _listen_queue(port)
        if established >= FLOOD and queued == 0:
            break
        time.sleep(0.01)  # polling the kernel's accept queue
    accept_s = time.perf_counter() - flooded
    out = load.communicate()[0]
    seen = [loadgen.probe_results(child) for child in probes]
    admitted = [x for got in seen for x in got.admitted]
    probe_shed = sum(got.shed for got in seen)
    assert sum(got.other for got in seen) == 0, "answers neither 200 nor 503 with Retry-After"
    total = re.search(r"(\d+) requests in", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert total is not None, out
    answers = int(total.group(1)) + len(admitted) + probe_shed
    shed = (int(non_2xx.group(1)) if non_2xx else 0) + probe_shed
    report("overload_accept_s", accept_s, "s")
    report("overload_calm_p99_ms", _p99(calm.admitted), "ms")
    report("overload_admitted_p99_ms", _p99(admitted) if admitted else float("nan"), "ms")
    ratio = _p99(admitted) / _p99(calm.admitted) if admitted else float("nan")
    report("overload_p99_ratio", ratio, "x")
    report("overload_shed_fraction", shed / answers, "ratio")
    report("overload_probes_admitted", len(admitted), f"of {len(admitted) + probe_shed}")
    report("overload_served_per_s", (answers - shed) / seconds, "requests/s")


def bench_overload_alone(n: int) -> None:
    """The overload figures alone, on a fresh server (``--overload-only``)."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        charter = open_charter(data_dir)
        subjects = consenting_subjects(charter, 4)
        tokens = {
            sid: {"Authorization": "Bearer " + charter.credentials.issue_user_token(sid).secret}
            for sid in subjects
        }
        charter.close()
        server = Server(data_dir)
        try:
            with httpx.Client() as warm:  # the region's database opened, the route warmed up
                for _ in range(20):
                    answer = warm.get(
                        f"{server.url}/v1/subjects/{subjects[0]}/switches",
                        headers=tokens[subjects[0]],
                    )
                    assert answer.status_code == 200, answer.text[:200]
            bench_overload(server.url, subjects, tokens, n)
        finally:
            server.stop()


def bench_big_bodies(server: Server, count: int) -> None:
    """Bodies of 200 MB to a JSON route (refused with 413 while streaming): the server's RSS."""
    block = b"x" * (1 << 20)

    def body() -> Iterator[bytes]:
        for _ in range(200):
            yield block

    with httpx.Client(base_url=server.url, timeout=60) as http:
        for _ in range(count):
            try:
                answer = http.post(
                    "/v1/account/login",
                    content=body(),
                    headers={"Content-Type": "application/json"},
                )
                assert answer.status_code == 413, answer.text[:200]
            except httpx.TransportError:
                pass  # the server may close the connection once it has answered
    report("big_body_rss_mb", rss_mb(server.process.pid), "MiB")


def bench_collect_only(scale: int) -> None:
    """The collect figures beside the limits they are measured against, and their ratios."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = limits.raw_insert_rows_per_s(Path(tmp), 200_000 // scale)
        report("raw_insert_rows_per_s", raw, "rows/s")
        indexed = limits.raw_insert_indexed_rows_per_s(Path(tmp), 200_000 // scale)
        report("raw_insert_indexed_rows_per_s", indexed, "rows/s")
    inprocess = bench_collect_inprocess(100_000 // scale)
    http = bench_http(200 // scale, 4_000 // scale, collect_only=True)
    limits.ratio("collect_inprocess_ratio_of_raw_insert", inprocess, raw)
    limits.ratio("collect_http_ratio_of_inprocess", http["collect_http_events_per_s"], inprocess)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    parser.add_argument(
        "--http-only",
        action="store_true",
        help="leave out the purge and memory-growth figures (the slow, non-HTTP ones)",
    )
    parser.add_argument(
        "--overload-only", action="store_true", help="only the overload figures (needs wrk)"
    )
    parser.add_argument(
        "--collect-only",
        action="store_true",
        help="only the collect figures (in process, over HTTP) and the limits they are set against",
    )
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    if args.overload_only:
        bench_overload_alone(4_000 // scale)
        return
    if args.collect_only:
        bench_collect_only(scale)
        return
    bench_policy(1_000_000 // scale)
    with tempfile.TemporaryDirectory() as tmp:
        raw = limits.raw_insert_rows_per_s(Path(tmp), 200_000 // scale)
        report("raw_insert_rows_per_s", raw, "rows/s")
        indexed = limits.raw_insert_indexed_rows_per_s(Path(tmp), 200_000 // scale)
        report("raw_insert_indexed_rows_per_s", indexed, "rows/s")
        commits = limits.durable_commits_per_s(Path(tmp), 3.0 if args.quick else 5.0)
        report("durable_commits_per_s", commits, "commits/s")
    inprocess = bench_collect_inprocess(100_000 // scale)
    http = bench_http(200 // scale, 4_000 // scale)
    limits.ratio("collect_inprocess_ratio_of_raw_insert", inprocess, raw)
    limits.ratio("collect_http_ratio_of_inprocess", http["collect_http_events_per_s"], inprocess)
    limits.ratio(
        "switch_http_ratio_of_floor", http["switch_http_per_s"], http["http_floor_req_per_s"]
    )
    limits.ratio("switch_http_ratio_of_durable_commits", http["switch_http_per_s"], commits)
    if not args.http_only:
        bench_purge(1_000_000 // scale)
        bench_rss_growth(1_000_000 // scale)


if __name__ == "__main__":
    main()
