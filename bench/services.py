"""
Content-service benchmarks (Mi Browser, Mi Video, Mi Pay). Prints ``name: value unit``.

- ``pay_tokenize_per_s``: cards tokenised per second through the vault on one core
  (the process pinned to one CPU, one thread, SQLite): the bank's check, the card number and
  expiry encrypted into gate records (with the audit entries), the keyed pseudonym
  (HMAC-SHA-256) and the token row — :meth:`charter.services.pay.Vault.add` end to end.
  Each card is two durable commits (the region's records, the control database's token
  row), so the disk's fsync time bounds it; ``pay_tokenize_cpu_ms`` beside it is the CPU
  time one card costs.
- ``browser_url_checks_per_s``: analytics values scanned for URLs per second (the check
  every Mi Browser request whose types may not hold a URL goes through).

    python bench/services.py [--quick]   # --quick: a tenth of the cards
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from pathlib import Path

from charter.app import Charter
from charter.config import Settings
from charter.services.browser import find_url
from charter.services.pay.bank import luhn_ok


def _card() -> str:
    body = "4" + "".join(secrets.choice("0123456789") for _ in range(14))
    return next(body + c for c in "0123456789" if luhn_ok(body + c))


def bench_tokenize(data_dir: Path, cards: int) -> None:
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    try:
        people = []
        for _ in range(max(1, cards // 50)):
            subject = charter.gate.create_subject("account", "in", actor="bench").id
            charter.gate.set_switches(
                subject, {"pay.authorization": True}, source="user", actor="subject"
            )
            people.append(subject)
        numbers = [_card() for _ in range(cards)]
        charter.pay.add_card(people[0], _card(), "09/29")  # warm up
        started, cpu = time.perf_counter(), time.process_time()
        for i, number in enumerate(numbers):
            charter.pay.add_card(people[i % len(people)], number, "09/29")
        per_s = cards / (time.perf_counter() - started)
        cpu_ms = (time.process_time() - cpu) * 1000 / cards
    finally:
        charter.close()
    print(f"pay_tokenize_per_s: {per_s:.0f} cards/s")
    print(f"pay_tokenize_cpu_ms: {cpu_ms:.2f} ms/card")


def bench_url_checks(values: int) -> None:
    reports = [
        {"kind": "product_interaction", "module": f"module_{i % 40}", "event": "open", "value": i}
        for i in range(values)
    ]
    started = time.perf_counter()
    assert find_url(reports) is None
    per_s = values * 4 / (time.perf_counter() - started)
    print(f"browser_url_checks_per_s: {per_s:.0f} values/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the cards")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory(dir=os.environ.get("CHARTER_BENCH_DIR")) as tmp:
        bench_tokenize(Path(tmp) / "pay", 2000 // scale)
    bench_url_checks(50_000 // scale)


if __name__ == "__main__":
    main()
