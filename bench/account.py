"""Benchmark: password hashing, sign-ins and the OAuth grants.

Usage: ``python bench/account.py [--quick]``. Prints one figure per line as
``name: value unit``.

- ``argon2_verify_ms`` (50-250 ms of one core): one argon2id verification with the production
  parameters (stated on the ``argon2_params`` line), median of 20.
- ``logins_per_s``: full sign-ins (password check through the gate, environment check,
  session issued) from a known device, 2 threads on 2 cores, production parameters.
- ``refresh_per_s`` (target >= 1,000, and >= 0.4 x the floor): ``POST /oauth/token`` with
  ``grant_type=refresh_token`` over HTTP against the whole app as ``charter serve`` runs it
  (its protocol, accept loop and admission; one process) on 127.0.0.1 (SQLite, data dir on
  local disk, ``synchronous=FULL``; token writes group-committed), 4 concurrent clients
  (``loadgen.CONNECTIONS``), each rotating its own refresh-token chain, of a client
  registered as ``charter oauth client add`` registers one by default (no new ID token on
  refresh, OIDC Core 12.2). ``refresh_with_id_token_per_s``: the same for a client
  registered with ``--id-token-on-refresh`` (each refresh signs a new RS256 ID token), on
  the same server. ``http_floor_req_per_s`` is measured on the same server just before,
  from as many clients: ``GET /v1/whoami`` with a service credential (bench/limits.py), and
  ``refresh_ratio_of_floor`` is the ratio.
- ``authorize_flow_per_s``: complete authorization code flows over HTTP against uvicorn
  serving the account and OAuth routers (``bench_app``, one process), 4 concurrent clients
  on SQLite: ``/oauth/authorize`` with a live browser session (consent given before) → code
  → ``/oauth/token`` (PKCE) → ``/oauth/userinfo``.
- ``storm_reader_p99_ms`` (target < 500 ms): T23's login storm over HTTP against that server:
  20 concurrent sign-ins (production argon2 parameters, the admission gate shedding the excess
  with 503) beside 10 readers of ``GET /v1/account/sessions``, 5 reads each, repeated
  ``rounds`` times; the 99th percentile of the read latencies, with ``storm_shed`` (503s) and
  ``storm_logins_ok`` beside it.
- ``enumeration_register_median_diff_ms`` and ``enumeration_reset_median_diff_ms`` (target
  < 5 ms each): over HTTP, the difference between the median answer times of registrations of
  taken and free identifiers, and of password-reset requests for known and unknown ones
  (interleaved); the tests check the deterministic half (same answers, same statements).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import limits  # bench/limits.py: what the machine can do, measured in the same run
import loadgen  # bench/loadgen.py: wrk when installed, server CPU per request
from fastapi import FastAPI

from charter.api import errors
from charter.api.routers import account as account_router
from charter.api.routers import caller as caller_router
from charter.api.routers import oauth as oauth_router
from charter.app import Charter
from charter.config import Settings
from charter.services.account import (
    PRODUCTION,
    AccountService,
    DeviceInfo,
    HashingGate,
    MemorySender,
)
from charter.services.oauth import OAuthProvider

PASSWORD = "violet lantern quietly orbits"
HUMAN = {
    "accelerometer": [
        [0.1, 9.8, 0.2],
        [0.2, 9.7, 0.1],
        [0.1, 9.9, 0.3],
        [0.0, 9.8, 0.2],
        [0.3, 9.6, 0.1],
    ],
    "network": {"type": "wifi"},
}
PHONE = DeviceInfo("bench-device", "Bench 1")
WORKERS = 1


def argon2_verify_ms(samples: int) -> float:
    hasher = PRODUCTION.hasher()
    encoded = hasher.hash(PASSWORD)
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def make_account(accounts: AccountService, sender: MemorySender, email: str) -> None:
    challenge = accounts.register(email, PASSWORD, "de")
    accounts.confirm_registration(challenge, sender.last_code(email))
    outcome = accounts.login(email, PASSWORD, device=PHONE, ip="192.0.2.1", signals=HUMAN)
    if outcome.status == "step_up":
        accounts.complete_login(outcome.challenge_id or "", code=sender.last_code(email))


def logins_per_s(data_dir: Path, seconds: float) -> float:
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    sender = MemorySender()
    accounts = AccountService(
        charter.gate, sender=sender, profile=PRODUCTION, hashing=HashingGate(slots=2, queue=64)
    )
    emails = [f"bench{i}@example.org" for i in range(2)]
    for email in emails:
        make_account(accounts, sender, email)
    done = [0, 0]
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        while time.perf_counter() < stop:
            assert (
                accounts.login(
                    emails[i], PASSWORD, device=PHONE, ip="192.0.2.1", signals=HUMAN
                ).status
                == "ok"
            )
            done[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    charter.close()
    return sum(done) / elapsed


def bench_app() -> FastAPI:
    """App factory for the server processes: the account and OAuth routers, as deployed."""
    charter = Charter.open(Settings.from_env())
    app = FastAPI()
    app.state.charter = charter
    errors.install(app)
    app.include_router(account_router.router)
    app.include_router(oauth_router.router)
    app.include_router(caller_router.router)  # GET /v1/whoami: the authenticated floor
    return app


def start_server(data_dir: Path, deployed: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """A server over ``data_dir`` answering on a free port: uvicorn on ``bench_app``, or with
    ``deployed`` the whole app as ``charter serve`` runs it (:data:`loadgen.CHARTER_SERVE`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CHARTER_DATA_DIR": str(data_dir), "CHARTER_ISSUER": "http://127.0.0.1"}
    deployed_command = [sys.executable, "-c", loadgen.CHARTER_SERVE, str(data_dir), str(port)]
    server = subprocess.Popen(
        deployed_command
        if deployed
        else [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--app-dir",
            str(Path(__file__).parent),
            "account:bench_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    for _ in range(200):
        try:
            httpx.get(f"{base}/.well-known/openid-configuration", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return server, base


def storm(data_dir: Path, rounds: int) -> dict[str, float]:
    """T23's storm over HTTP: read latencies while sign-ins are admitted or shed."""
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    sender = MemorySender()
    accounts = AccountService(charter.gate, sender=sender)
    emails = [f"storm{i}@example.org" for i in range(4)]
    for email in emails:
        make_account(accounts, sender, email)
    tokens = [
        accounts.login(e, PASSWORD, device=PHONE, ip="192.0.2.1", signals=HUMAN).tokens
        for e in emails
    ]
    charter.close()
    server, base = start_server(data_dir)
    latencies: list[float] = []
    statuses: list[int] = []
    try:
        for _ in range(rounds):
            start = threading.Barrier(30)

            def login(i: int, start: threading.Barrier) -> None:
                body = {
                    "identifier": emails[i % 4],
                    "password": PASSWORD,
                    "device_id": PHONE.device_id,
                    "signals": HUMAN,
                }
                with httpx.Client(base_url=base, timeout=60) as http:
                    start.wait()
                    statuses.append(http.post("/v1/account/login", json=body).status_code)

            def read(i: int, start: threading.Barrier) -> None:
                headers = {"Authorization": f"Bearer {tokens[i % 4].access_token}"}  # type: ignore[union-attr]
                with httpx.Client(base_url=base, timeout=60) as http:
                    start.wait()
                    for _ in range(5):
                        t = time.perf_counter()
                        assert http.get("/v1/account/sessions", headers=headers).status_code == 200
                        latencies.append(time.perf_counter() - t)

            threads = [threading.Thread(target=login, args=(i, start)) for i in range(20)]
            threads += [threading.Thread(target=read, args=(i, start)) for i in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        server.terminate()
        server.wait(10)
    return {
        "p99": statistics.quantiles(latencies, n=100)[98] * 1000,
        "p50": statistics.median(latencies) * 1000,
        "ok": statuses.count(200),
        "shed": statuses.count(503),
    }


def enumeration(data_dir: Path, rounds: int) -> dict[str, float]:
    """Median answer-time differences that would tell taken identifiers from free ones."""
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir), sender=MemorySender())
    charter.accounts.create("taken@example.org", PASSWORD, "de")
    charter.close()
    server, base = start_server(data_dir)
    timings: dict[str, list[float]] = {k: [] for k in ("taken", "free", "known", "unknown")}
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            for i in range(rounds):
                for kind in ("taken", "free") if i % 2 else ("free", "taken"):
                    identifier = "taken@example.org" if kind == "taken" else f"free{i}@example.org"
                    body = {
                        "identifier": identifier,
                        "password": "a new and quite long password",
                        "country": "de",
                    }
                    t = time.perf_counter()
                    assert http.post("/v1/account/register", json=body).status_code == 202
                    timings[kind].append(time.perf_counter() - t)
                for kind in ("known", "unknown") if i % 2 else ("unknown", "known"):
                    identifier = (
                        "taken@example.org" if kind == "known" else f"nobody{i}@example.org"
                    )
                    t = time.perf_counter()
                    http.post("/v1/account/help/reset", json={"identifier": identifier})
                    timings[kind].append(time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(10)

    def diff(a: str, b: str) -> float:
        return abs(statistics.median(timings[a]) - statistics.median(timings[b])) * 1000

    return {"register": diff("taken", "free"), "reset": diff("known", "unknown")}


REDIRECT = "http://127.0.0.1:9/cb"


def oauth_setup(data_dir: Path) -> tuple[str, str, str]:
    """An account signed in in a browser session and two registered clients: the id of one
    registered as by default, the id of one that asks for an ID token on every refresh, and
    the browser's session cookie (what ``/signin`` leaves in a browser)."""
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    sender = MemorySender()
    accounts = AccountService(charter.gate, sender=sender)
    provider = OAuthProvider(charter.gate, issuer="http://127.0.0.1")
    make_account(accounts, sender, "oauth@example.org")
    client_id = provider.clients.add("Bench", [REDIRECT]).client.client_id
    asks = provider.clients.add("Bench ID", [REDIRECT], id_token_on_refresh=True).client
    tokens = accounts.login(
        "oauth@example.org", PASSWORD, device=PHONE, ip="192.0.2.1", signals=HUMAN
    ).tokens
    assert tokens is not None
    browser = accounts.browser.new()
    accounts.browser.sign_in(browser, tokens)
    accounts.browser.save(browser)
    charter.close()
    return client_id, asks.client_id, browser.token


def code_flow(http: httpx.Client, cookie: str, client_id: str) -> dict[str, Any]:
    """One authorization code flow with PKCE as a browser and its app run it: authorize
    (consent on the first run), then the code for tokens."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "nonce": secrets.token_hex(8),
    }
    headers = {"Cookie": f"charter_session={cookie}"}
    page = http.get("/oauth/authorize", params=params, headers=headers)
    location = page.headers.get("location")
    if location is None:
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        form = {k: v.replace("&amp;", "&") for k, v in form.items()}
        form["decision"] = "allow"
        location = http.post("/oauth/authorize", data=form, headers=headers).headers["location"]
    code = re.search(r"code=([^&]+)", location).group(1)  # type: ignore[union-attr]
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    answer.raise_for_status()
    return dict(answer.json())


def _run_clients(
    clients: int, seconds: float, step: Callable[[int, httpx.Client], None], base: str
) -> tuple[float, int]:
    """Run ``step`` in ``clients`` threads for ``seconds``; completed steps per second and
    how many."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        with httpx.Client(base_url=base) as http:
            while time.perf_counter() < stop:
                step(i, http)
                counts[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started), sum(counts)


def refresh_per_s(
    data_dir: Path, seconds: float, clients: int = loadgen.CONNECTIONS
) -> dict[str, float]:
    """Refresh token rotations per second over HTTP, ``clients`` token chains at once, and
    the floor beside it: ``GET /v1/whoami`` with a service credential on the same server
    from as many clients; with the server's CPU per request of each. Driven by ``wrk`` when
    installed (httpx threads otherwise)."""
    client_id, signed_id, cookie = oauth_setup(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    key = {"Authorization": "Bearer " + charter.credentials.create_api_key("cloud").secret}
    charter.close()
    server, base = start_server(data_dir, deployed=True)
    pid = server.pid
    wrk = loadgen.wrk_path() is not None
    try:
        with httpx.Client(base_url=base) as http:
            chains = [
                code_flow(http, cookie, client_id)["refresh_token"] for _ in range(2 * clients + 4)
            ]
            signed = [
                code_flow(http, cookie, signed_id)["refresh_token"] for _ in range(clients + 2)
            ]
        form = "grant_type=refresh_token&refresh_token=%s&client_id="  # + the client's id
        if wrk:
            floor_call = loadgen.Call("GET", "/v1/whoami", key)
            loadgen.run_wrk(base, [floor_call], 1, pid)  # warm up
            floor = loadgen.run_wrk(base, [floor_call], seconds, pid)
            assert floor.failed == 0, floor
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            warm = loadgen.run_wrk_chains(
                base, "/oauth/token", headers, form + client_id, chains[: clients + 2], 1, pid
            )
            assert warm.failed == 0, warm
            run = loadgen.run_wrk_chains(
                base, "/oauth/token", headers, form + client_id, chains[clients + 2 :], seconds, pid
            )
            assert run.failed == 0, run
            with_id = loadgen.run_wrk_chains(
                base, "/oauth/token", headers, form + signed_id, signed, seconds, pid
            )
            assert with_id.failed == 0, with_id
            return {
                "floor": floor.per_s,
                "floor_cpu_ms": floor.cpu_ms_per_request,
                "refresh": run.per_s,
                "refresh_cpu_ms": run.cpu_ms_per_request,
                "refresh_id_token": with_id.per_s,
                "refresh_id_token_cpu_ms": with_id.cpu_ms_per_request,
            }
        cpu = loadgen.cpu_seconds(pid)
        requests = int(seconds * 300)
        floor_rate = limits.http_floor_req_per_s(base, key, requests, clients)
        floor_cpu = loadgen.cpu_seconds(pid) - cpu
        mine = chains[clients + 2 : 2 * clients + 2]
        rate, refresh_cpu = _refresh_chains(base, pid, client_id, mine, seconds)
        id_rate, id_cpu = _refresh_chains(base, pid, signed_id, signed[:clients], seconds)
        return {
            "floor": floor_rate,
            "floor_cpu_ms": floor_cpu * 1000 / requests,
            "refresh": rate,
            "refresh_cpu_ms": refresh_cpu,
            "refresh_id_token": id_rate,
            "refresh_id_token_cpu_ms": id_cpu,
        }
    finally:
        server.terminate()
        server.wait(10)


def _refresh_chains(
    base: str, pid: int, client_id: str, chains: list[str], seconds: float
) -> tuple[float, float]:
    """Refreshes per second of ``client_id``'s ``chains`` with httpx threads, one per chain,
    and the server's CPU milliseconds per refresh."""

    def step(i: int, http: httpx.Client) -> None:
        r = http.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": chains[i],
                "client_id": client_id,
            },
        )
        chains[i] = r.json()["refresh_token"]

    cpu = loadgen.cpu_seconds(pid)
    rate, done = _run_clients(len(chains), seconds, step, base)
    return rate, (loadgen.cpu_seconds(pid) - cpu) * 1000 / max(done, 1)


def authorize_flow_per_s(data_dir: Path, seconds: float, clients: int = 4) -> float:
    """Complete code flows per second over HTTP: authorize with a live browser session (the
    person consented before) → code → tokens → userinfo, ``clients`` at once, SQLite."""
    client_id, _, cookie = oauth_setup(data_dir)
    server, base = start_server(data_dir)
    try:
        with httpx.Client(base_url=base) as http:
            code_flow(http, cookie, client_id)  # the consent, once

        def step(i: int, http: httpx.Client) -> None:
            tokens = code_flow(http, cookie, client_id)
            info = http.get(
                "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            info.raise_for_status()

        return _run_clients(clients, seconds, step, base)[0]
    finally:
        server.terminate()
        server.wait(10)


def print_refresh(figures: dict[str, float]) -> None:
    generator = "wrk" if loadgen.wrk_path() else "httpx threads (install wrk for a lighter client)"
    print(f"refresh_generator: {generator}, {loadgen.CONNECTIONS} clients", flush=True)
    print(f"http_floor_req_per_s: {figures['floor']:.0f} requests/s")
    print(f"http_floor_server_cpu_ms: {figures['floor_cpu_ms']:.3f} ms")
    print(f"refresh_per_s: {figures['refresh']:.0f} refreshes/s")
    print(f"refresh_server_cpu_ms: {figures['refresh_cpu_ms']:.3f} ms")
    limits.ratio("refresh_ratio_of_floor", figures["refresh"], figures["floor"])
    print(f"refresh_with_id_token_per_s: {figures['refresh_id_token']:.0f} refreshes/s")
    print(f"refresh_with_id_token_server_cpu_ms: {figures['refresh_id_token_cpu_ms']:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument(
        "--refresh-only", action="store_true", help="only the floor and the refresh figures"
    )
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 10.0
    if args.refresh_only:
        with tempfile.TemporaryDirectory(dir=os.environ.get("CHARTER_BENCH_DIR")) as tmp:
            print_refresh(refresh_per_s(Path(tmp) / "refresh", seconds))
        return
    p = PRODUCTION
    print(f"argon2_params: m={p.memory_kib} KiB t={p.time_cost} p={p.parallelism} (argon2id v=19)")
    print(f"argon2_verify_ms: {argon2_verify_ms(10 if args.quick else 20):.1f} ms")
    with tempfile.TemporaryDirectory(dir=os.environ.get("CHARTER_BENCH_DIR")) as tmp:
        print(f"logins_per_s: {logins_per_s(Path(tmp) / 'logins', seconds):.1f} logins/s")
        print_refresh(refresh_per_s(Path(tmp) / "refresh", seconds))
        flows = authorize_flow_per_s(Path(tmp) / "flows", seconds)
        print(f"authorize_flow_per_s: {flows:.0f} flows/s")
        figures = storm(Path(tmp) / "storm", 3 if args.quick else 10)
        print(f"storm_reader_p50_ms: {figures['p50']:.0f} ms")
        print(f"storm_reader_p99_ms: {figures['p99']:.0f} ms")
        print(f"storm_logins_ok: {figures['ok']:.0f} count")
        print(f"storm_shed: {figures['shed']:.0f} count")
        gaps = enumeration(Path(tmp) / "enumeration", 40 if args.quick else 200)
        print(f"enumeration_register_median_diff_ms: {gaps['register']:.2f} ms")
        print(f"enumeration_reset_median_diff_ms: {gaps['reset']:.2f} ms")


if __name__ == "__main__":
    main()
