"""One analytics API for the content services (:class:`charter.services.aggregates.Aggregates`):
a ``policy`` service counts only what the gate's policy allows for a person, a ``uxp`` service
follows the User Experience Program switch (a visitor counts), and each releases counters only
from its floor up; no row names anyone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from charter.app import Charter
from charter.errors import InputError, RefusedError
from charter.services.aggregates import Aggregates, Report
from charter.services.aggregates.tables import counters

UXP = "system.user_experience_program"


def _person(charter: Charter, market: str, switches: dict[str, bool]) -> str:
    subject = charter.gate.create_subject("account", market, actor="test").id
    if switches:
        charter.gate.set_switches(subject, switches, source="user", actor="subject")
    return subject


def test_one_api_decides_by_policy_or_by_the_switch(charter: Charter) -> None:
    tap = [Report("product_interaction", "player", "play")]
    video = Aggregates(charter.gate, "video", ("product_interaction",))
    with pytest.raises(InputError) as anonymous:
        video.add(None, tap)
    assert anonymous.value.field == "subject"
    unauthorized = _person(charter, "de", {UXP: True})
    with pytest.raises(RefusedError):
        video.add(unauthorized, tap)
    allowed = _person(charter, "de", {UXP: True, "video.authorization": True})
    for _ in range(9):
        assert video.add(allowed, tap) == 1
    assert video.report() == []  # 9 reports: below the floor of 10
    video.add(allowed, tap)
    assert [(c.module, c.reports) for c in video.report()] == [("player", 10)]

    themes = Aggregates(
        charter.gate, "themes", ("product_interaction",), decide="uxp", release_floor=1
    )
    page = [Report("product_interaction", "home", "page_view")]
    assert themes.add(None, page) == 1
    assert themes.add(_person(charter, "de", {}), page) == 0  # the programme is off
    assert themes.add(_person(charter, "de", {UXP: True}), page) == 1
    assert [(c.module, c.reports) for c in themes.report()] == [("home", 2)]
    assert themes.popular() == {"home": 2}
    with pytest.raises(InputError):
        themes.add(None, [Report("gaid", "home", "page_view")])
    with charter.stores.control().connect() as conn:
        rows = repr(conn.execute(select(counters)).all())
    assert allowed not in rows and unauthorized not in rows
