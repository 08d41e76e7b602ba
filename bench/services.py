"""
Content-service benchmarks (Mi Pay, Get Apps, Mi Browser). Prints ``name: value unit``.

- ``pay_tokenize_per_s``: cards tokenised per second through the vault on one core
  (the process pinned to one CPU, one thread, SQLite): the bank's check, the keyed pseudonym
  (HMAC-SHA-256), and the vault entry (number, token, pseudonym) and expiry encrypted into
  gate records with their audit entry — :meth:`charter.services.pay.Vault.add` end to end.
  Each card is one durable commit (one transaction of the region's database), so the disk's
  fsync time bounds it; ``pay_tokenize_commit_ms`` beside it is that limit measured in the
  same run (the median durable commit of one audit entry), and ``pay_tokenize_cpu_ms`` the
  CPU time one card costs.
- ``browser_url_checks_per_s``: analytics values scanned for URLs per second (the check
  every Mi Browser request whose types may not hold a URL goes through).
- ``review_list_ms``: the first page (20 reviews, newest first) of a Get Apps app holding
  10,000 reviews by 1,000 authors, the authors' nicknames masked, answered over HTTP by the
  in-process API (median of 30 requests, no one signed in). A page is one indexed query of
  ``get_apps_reviews`` and one gate read of its records by id (one query for all its authors,
  each decided on their own) in a read-only snapshot, audited as one entry for the page
  (naming no one), durable before the answer and group-committed; ``review_list_commit_ms``
  beside it is that limit measured in the same run (the median durable commit of one audit
  entry in the region's database). ``review_list_author_ms``: the same page asked by one of
  its authors (their own review shows their nickname whole). ``review_pages_8_threads_per_s``:
  first pages served per second by 8 threads calling the service at once (240 pages), and
  ``review_pages_per_commit`` how many pages' audit entries shared a durable commit.

    python bench/services.py [--quick]   # --quick: a tenth of the cards and reviews
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import insert

from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.gate import Event
from charter.gate.journal import AuditEntry
from charter.services.browser import find_url
from charter.services.get_apps.tables import reviews
from charter.services.pay.bank import luhn_ok
from charter.taxonomy import Purpose

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

APP = "a_chess"


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
        commit_ms = _commit_ms(charter, people[0])
    finally:
        charter.close()
    print(f"pay_tokenize_per_s: {per_s:.0f} cards/s")
    print(f"pay_tokenize_commit_ms: {commit_ms:.1f} ms")
    print(f"pay_tokenize_cpu_ms: {cpu_ms:.2f} ms/card")


def _fill(charter: Charter, total: int, authors: int) -> list[str]:
    """``total`` reviews of one app by ``authors`` people in India."""
    gate = charter.gate
    people = [gate.create_subject("account", "in", actor="bench").id for _ in range(authors)]
    for subject in people:
        gate.set_switches(subject, {"get_apps.authorization": True}, source="user", actor="bench")
    events = [
        Event(
            people[n % authors],
            "get_apps",
            "comments",
            Purpose.APP_FUNCTIONALITY,
            {"app": APP, "rating": 1 + n % 5, "text": f"review {n}", "nickname": f"Reviewer{n}"},
        )
        for n in range(total)
    ]
    result = gate.collect(events, actor="service:get_apps")
    now = charter.clock()
    rows = [
        {
            "subject_id": events[i.index].subject_id,
            "id": "rv_" + secrets.token_hex(16),
            "app_id": APP,
            "rating": 1 + i.index % 5,
            "record_id": i.record_id,
            "created_at": now + i.index,
        }
        for i in result.items
        if i.accepted
    ]
    with charter.stores.control().begin() as conn:
        conn.execute(insert(reviews), rows)
    return people


def _median_ms(api: TestClient, headers: dict[str, str], params: dict[str, str]) -> float:
    times = []
    for _ in range(30):
        start = time.perf_counter()
        answer = api.get(f"/v1/apps/{APP}/reviews", params=params, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["reviews"]) == 20
    return statistics.median(times)


def bench_reviews(data_dir: Path, total: int) -> None:
    Charter.init(data_dir)
    charter = Charter.open(Settings(data_dir=data_dir))
    try:
        people = _fill(charter, total, total // 10)
        with TestClient(create_app(charter), base_url="https://testserver") as api:
            first = api.get(f"/v1/apps/{APP}/reviews", params={"market": "in"}).json()
            assert all("*" in r["nickname"] for r in first["reviews"])
            print(f"review_list_ms: {_median_ms(api, {}, {'market': 'in'}):.1f} ms")
            print(f"review_list_commit_ms: {_commit_ms(charter, people[0]):.1f} ms")
            author = charter.credentials.issue_user_token(people[-1], actor="bench").secret
            headers = {"Authorization": f"Bearer {author}"}
            mine = api.get(f"/v1/apps/{APP}/reviews", headers=headers).json()["reviews"]
            assert any(r["mine"] and "*" not in r["nickname"] for r in mine)
            print(f"review_list_author_ms: {_median_ms(api, headers, {}):.1f} ms")
        _concurrent_pages(charter)
    finally:
        charter.close()


def _concurrent_pages(charter: Charter, pages: int = 240, threads: int = 8) -> None:
    """First pages served by ``threads`` threads at once through the service."""
    audit = getattr(charter.get_apps.reviews, "audit", None)  # absent before group commit
    commits = audit.commits if audit is not None else 0

    def one(_: int) -> int:
        return len(charter.get_apps.review_page(APP, "in", viewer=None).reviews)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        assert all(n == 20 for n in pool.map(one, range(pages)))
    print(f"review_pages_8_threads_per_s: {pages / (time.perf_counter() - started):.0f} pages/s")
    if audit is not None:
        print(f"review_pages_per_commit: {pages / max(1, audit.commits - commits):.1f} pages")


def _commit_ms(charter: Charter, subject_id: str) -> float:
    """The median durable commit of one audit entry in the subject's region database."""
    gate = charter.gate
    region = gate.subject(subject_id).region
    ref = gate.subject_ref(subject_id)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        with charter.stores.region(region).begin() as conn:
            entry = AuditEntry(charter.clock(), "bench", "use", ref, {"records": 0})
            gate.journal.record_many(conn, [entry])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


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
        bench_reviews(Path(tmp) / "reviews", 10_000 // scale)
    bench_url_checks(50_000 // scale)


if __name__ == "__main__":
    main()
