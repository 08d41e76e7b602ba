"""read_many: many subjects' records under the same rules as one read, each subject audited,
refused or inactive subjects left out; the audit chain stays intact."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from charter.app import Charter
from charter.gate import Event
from charter.gate.many import read_many
from charter.store import schema as t
from charter.taxonomy import Purpose


def reviewer(charter: Charter, market: str, text: str, *, authorized: bool = True) -> str:
    subject = charter.gate.create_subject("account", market, actor="test").id
    charter.gate.set_switches(
        subject, {"get_apps.authorization": True}, source="user", actor="subject"
    )
    charter.gate.collect(
        [Event(subject, "get_apps", "comments", Purpose.APP_FUNCTIONALITY, {"text": text})],
        actor="test",
    )
    if not authorized:
        charter.gate.set_switches(
            subject, {"get_apps.authorization": False}, source="user", actor="subject"
        )
    return subject


def audit_actions(charter: Charter, region: str) -> list[tuple[str, str | None]]:
    a = t.audit_log
    with charter.stores.region(region).connect() as conn:
        rows = conn.execute(
            select(a.c.action, a.c.subject_ref).where(a.c.actor == "service:reader")
        ).all()
    return [(r.action, r.subject_ref) for r in rows]


def test_many_subjects_read_as_one_read_each(charter: Charter) -> None:
    india = [reviewer(charter, "in", f"text {n}") for n in range(3)]
    russia = reviewer(charter, "ru", "privet")
    withdrawn = reviewer(charter, "in", "gone", authorized=False)
    erased = reviewer(charter, "in", "left")
    charter.rights.delete_account(erased)
    found = read_many(
        charter.gate,
        [*india, russia, withdrawn, erased, "s_" + "0" * 32],
        service="get_apps",
        purpose=Purpose.APP_FUNCTIONALITY,
        data_type="comments",
        actor="service:reader",
    )
    assert set(found) == {*india, russia}
    for subject in (*india, russia):
        one = charter.gate.read(
            subject,
            service="get_apps",
            purpose=Purpose.APP_FUNCTIONALITY,
            data_type="comments",
            actor="test",
        )
        assert found[subject] == one
    refs = {charter.gate.subject_ref(s): s for s in (*india, withdrawn)}
    entries = audit_actions(charter, "india")
    assert sorted((action, refs[ref]) for action, ref in entries if ref in refs) == sorted(
        [("use", s) for s in india] + [("refuse", withdrawn)]
    )
    assert audit_actions(charter, "russia") == [("use", charter.gate.subject_ref(russia))]
    reports = charter.gate.journal.verify(existing_only=True)
    assert all(report.ok for report in reports.values()), reports


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["in", "ru", "es", "de"]), min_size=1, max_size=5))
def test_any_mix_of_markets_answers_every_active_authorized_subject(
    charter: Charter, markets: list[str]
) -> None:
    people = [reviewer(charter, m, m) for m in markets]
    found = read_many(
        charter.gate,
        people,
        service="get_apps",
        purpose=Purpose.APP_FUNCTIONALITY,
        actor="service:reader",
    )
    assert set(found) == set(people)
    for subject, market in zip(people, markets, strict=True):
        # Get Apps is not offered in Germany: nothing was collected there to read
        assert len(found[subject]) == (0 if market == "de" else 1)
