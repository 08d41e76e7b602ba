"""
Find Device benchmarks (SQLite, loopback, uvicorn in a thread):

- ``report_ingest_per_s``: sealed reports accepted per second over HTTP, in signed batches
  of 500 per device, 4 clients (devices) in parallel (target >= 10,000);
- ``locate_round_trip_ms``: owner request -> device (long-polling) answers -> owner opens
  it; p50 and p99;
- ``seal_open_us``: sealing and opening one report with HPKE on one core.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from charter.asgi import create_app
from charter.client.find_device import FindDeviceAgent, FindDeviceOwner
from charter.client.find_device_crypto import OwnerKeyFile, Position, seal_position
from charter.services.find_device import FindDevice
from charter.testing import open_test_charter
from support.live import Served, listening_socket

BATCH, BATCHES, CLIENTS, ROUNDS = 500, 10, 4, 60
HERE = Position(48.137154, 11.576124)


def seal_open() -> float:
    keys, device = OwnerKeyFile.generate(), Ed25519PrivateKey.generate()
    n = 2000
    start = time.perf_counter()
    for i in range(n):
        sealed = seal_position(
            keys.seal_public, device, HERE, device_id="fd_x", at=i, command_id=None
        )
        keys.open(sealed)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        charter = open_test_charter(Path(tmp) / "data")
        charter.find_device = FindDevice(
            charter.gate, locate_per_owner_hour=10_000, locate_per_device_hour=10_000
        )
        sock, url = listening_socket()
        with Served(sock, create_app(charter)):
            agents = []
            for n in range(CLIENTS):
                subject = charter.gate.create_subject("account", "de", actor="bench").id
                token = charter.credentials.issue_user_token(subject, actor="bench").secret
                keys = OwnerKeyFile.generate()
                owner = FindDeviceOwner(url, token, keys)
                owner.register()
                ids = {"device_id": f"bench-{n}", "mac_address": f"02:00:00:00:00:{n:02x}"}
                agent = FindDeviceAgent(url, Path(tmp) / f"d{n}.json", ids, lambda: HERE)
                agent.activate(token)
                owner.send(agent.device_id or "", "lost_mode_on", message="m", phone="1")
                agent.poll()
                agents.append((agent, owner))
            batches = {
                id(a): [[("lost", None, HERE)] * BATCH for _ in range(BATCHES)] for a, _ in agents
            }
            # Seal up front: the device's sealing is not the server's ingest.
            prepared = {id(a): [a.seal_batch(b) for b in batches[id(a)]] for a, _ in agents}
            start = time.perf_counter()
            threads = [
                threading.Thread(target=lambda a=a: [a.post_batch(b) for b in prepared[id(a)]])
                for a, _ in agents
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            took = time.perf_counter() - start
            rate = CLIENTS * BATCH * BATCHES / took

            agent, owner = agents[0]
            owner.send(agent.device_id or "", "lost_mode_off")
            agent.poll()
            stop = threading.Event()

            def device_loop() -> None:
                while not stop.is_set():
                    agent.poll(wait=2)

            loop = threading.Thread(target=device_loop)
            loop.start()
            times = []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                sent = owner.send(agent.device_id or "", "locate")
                while True:
                    found = owner.transport.request("GET", "/v1/find-device/history").json()
                    hit = [r for r in found["reports"] if r["command_id"] == sent["id"]]
                    if hit:
                        from charter.client.find_device_crypto import b64d  # noqa: PLC0415

                        owner.keys.open(b64d(hit[0]["sealed"]))
                        break
                times.append((time.perf_counter() - t0) * 1000)
            stop.set()
            loop.join()
        charter.close()
    times.sort()
    print(
        f"report_ingest_per_s: {rate:.0f} reports/s (target >= 10000; 4 devices, batches of 500, sealed beforehand)"
    )
    print(f"locate_round_trip_ms_p50: {statistics.median(times):.1f} ms")
    print(f"locate_round_trip_ms_p99: {times[int(len(times) * 0.99) - 1]:.1f} ms")
    print(f"seal_open_us: {seal_open():.0f} us")


if __name__ == "__main__":
    main()
