"""
A public page of reviews is audited as one entry per page read, naming no one; each author
is still decided on their own (switches, status): a refused or erased author's review never
shows, and their refusal is counted in the page's entry without naming them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from charter.app import Charter
from charter.gate.published import AUDIENCE
from charter.store import schema as t
from support.store_services import TestClient, person

ACTOR = "service:get_apps"


def _entries(charter: Charter, after: int) -> list[Any]:
    a = t.audit_log
    with charter.stores.region("india").connect() as conn:
        return list(
            conn.execute(
                select(a.c.action, a.c.subject_ref, a.c.detail)
                .where(a.c.seq > after, a.c.actor == ACTOR)
                .order_by(a.c.seq)
            ).all()
        )


def _last_seq(charter: Charter) -> int:
    a = t.audit_log
    with charter.stores.region("india").connect() as conn:
        return int(conn.execute(select(a.c.seq).order_by(a.c.seq.desc()).limit(1)).scalar() or 0)


def test_a_public_page_read_is_one_audit_entry_and_each_author_is_still_decided(
    charter: Charter, api: TestClient
) -> None:
    authors = []
    for n, nickname in enumerate(["Asha", "Bilal", "Chitra", "Dev", "Esha"]):
        subject, headers = person(charter, "in", authorize=("get_apps",))
        review = {"rating": 1 + n, "text": f"review by {nickname}", "nickname": nickname}
        assert api.post("/v1/apps/a_chess/reviews", json=review, headers=headers).status_code == 201
        authors.append(subject)
    switched_off, erased = authors[3], authors[4]
    charter.gate.set_switches(
        switched_off, {"get_apps.authorization": False}, source="user", actor="subject"
    )
    charter.rights.delete_account(erased)
    before = _last_seq(charter)
    page = api.get("/v1/apps/a_chess/reviews", params={"market": "in"}).json()
    assert sorted(r["text"] for r in page["reviews"]) == [
        "review by Asha", "review by Bilal", "review by Chitra",
    ]  # fmt: skip
    assert all("*" in r["nickname"] for r in page["reviews"])
    entries = _entries(charter, before)
    assert len(entries) == 1, entries  # one entry for the page, none per author
    action, subject_ref, stored = entries[0]
    assert (action, subject_ref) == ("use", None)
    assert not any(charter.gate.subject_ref(s) in stored for s in authors)  # naming no one
    detail = json.loads(stored)
    assert detail["audience"] == AUDIENCE
    assert (detail["records"], detail["authors"]) == (3, 3)
    assert sum(detail["refused"].values()) == 1  # the author who switched Get Apps off
    # a second read is a second entry, and the chain stays intact
    api.get("/v1/apps/a_chess/reviews", params={"market": "in"})
    assert len(_entries(charter, before)) == 2
    reports = charter.gate.journal.verify(existing_only=True)
    assert all(report.ok for report in reports.values()), reports


def test_the_author_still_sees_their_own_review_whole_on_the_public_page(
    charter: Charter, api: TestClient
) -> None:
    _author, mine = person(charter, "in", authorize=("get_apps",))
    review = {"rating": 5, "text": "Fine", "nickname": "Priyanka"}
    assert api.post("/v1/apps/a_chess/reviews", json=review, headers=mine).status_code == 201
    before = _last_seq(charter)
    seen = api.get("/v1/apps/a_chess/reviews", headers=mine).json()["reviews"]
    assert [(r["nickname"], r["mine"]) for r in seen] == [("Priyanka", True)]
    assert [e.subject_ref for e in _entries(charter, before)] == [None]
