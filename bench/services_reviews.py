"""
Get Apps review benchmark. Prints ``name: value unit`` lines.

- ``review_list_ms``: the first page (20 reviews, newest first) of an app holding 10,000
  reviews by 1,000 authors, with the authors' nicknames masked, answered over HTTP by the
  in-process API (median of 30 requests, no one signed in); each page reads its authors'
  review records through the gate (one audited read per author on the page).
- ``review_list_author_ms``: the same page asked by one of its authors (their own review
  shows their nickname whole).

The 10,000 reviews enter as gate records in one batch (the gate's collect path) with their
rows in ``get_apps_reviews``; listing goes through the whole path.

    python bench/services_reviews.py [--quick]   # --quick: a tenth of the reviews
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from sqlalchemy import insert

from charter.app import Charter
from charter.asgi import create_app
from charter.config import Settings
from charter.gate import Event
from charter.services.get_apps.tables import reviews
from charter.taxonomy import Purpose

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

APP = "a_chess"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the reviews")
    args = parser.parse_args()
    total = 1_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        Charter.init(data_dir)
        charter = Charter.open(Settings(data_dir=data_dir))
        try:
            people = _fill(charter, total, total // 10)
            with TestClient(create_app(charter), base_url="https://testserver") as api:
                first = api.get(f"/v1/apps/{APP}/reviews", params={"market": "in"}).json()
                assert all("*" in r["nickname"] for r in first["reviews"])
                print(f"review_list_ms: {_median_ms(api, {}, {'market': 'in'}):.1f} ms")
                author = charter.credentials.issue_user_token(people[-1], actor="bench").secret
                headers = {"Authorization": f"Bearer {author}"}
                mine = api.get(f"/v1/apps/{APP}/reviews", headers=headers).json()["reviews"]
                assert any(r["mine"] and "*" not in r["nickname"] for r in mine)
                print(f"review_list_author_ms: {_median_ms(api, headers, {}):.1f} ms")
        finally:
            charter.close()


if __name__ == "__main__":
    sys.exit(main())
