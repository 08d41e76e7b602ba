"""
Device agent benchmarks:

- ``access_record_us``: recording one permission access on the device (p50; target < 50 µs);
- ``command_to_confirm_ms``: a withdrawal queued at the server → the device deletes the
  service's local data → its confirmation reaches the server, over loopback HTTP (p50/p99).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from charter.asgi import create_app
from charter.device import Device, Grant, Manifest
from charter.device.keys import FileKeys
from charter.testing import open_test_charter
from support.live import Served, listening_socket


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def access_record(folder: Path, n: int = 20_000) -> None:
    phone = Device.create(folder / "phone", password="bench-pass", keys=FileKeys(folder / "phone"))
    apps = phone.owner.apps
    apps.install(Manifest("com.bench.app", "b", {"location": "app_functionality"}))
    apps.grant("com.bench.app", "location", Grant.ALWAYS)
    log = phone.owner.log
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        log.record("com.bench.app", "location", "app_functionality", foreground=True)
        samples.append((time.perf_counter_ns() - t) / 1000)
    print(f"access_record_us: {statistics.median(samples):.1f} us (p50, target < 50)")
    print(f"access_record_p99_us: {pct(samples, 0.99):.1f} us")
    samples = []
    for _ in range(2_000):
        t = time.perf_counter_ns()
        apps.use_permission("com.bench.app", "location", foreground=True)
        samples.append((time.perf_counter_ns() - t) / 1000)
    print(f"use_permission_us: {statistics.median(samples):.1f} us (p50: grant check + record)")
    phone.close()


def command_to_confirm(folder: Path, n: int = 100) -> None:
    charter = open_test_charter(folder / "server")
    sock, url = listening_socket()
    with Served(sock, create_app(charter)):
        subject = charter.gate.create_subject("account", "de", actor="bench").id
        token = charter.credentials.issue_user_token(subject, actor="bench").secret
        phone = Device.create(
            folder / "dev",
            password="bench-pass",
            server=url,
            token=token,
            device_id="bench-phone",
            keys=FileKeys(folder / "dev"),
            http=httpx.Client(base_url=url),
        )
        samples = []
        for _ in range(n):
            phone.owner.put("themes", "wallpaper", b"x" * 64)
            t = time.perf_counter()
            charter.rights.withdraw(subject, "themes")
            done = phone.poll()
            samples.append((time.perf_counter() - t) * 1000)
            assert done and phone.owner.keys("themes") == []
        assert charter.rights.devices.pending(subject_id=subject) == []
        print(f"command_to_confirm_ms: {statistics.median(samples):.2f} ms (p50)")
        print(f"command_to_confirm_p99_ms: {pct(samples, 0.99):.2f} ms")
        phone.close()
    charter.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        access_record(Path(tmp))
        command_to_confirm(Path(tmp))


if __name__ == "__main__":
    main()
