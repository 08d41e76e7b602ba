"""
Assigning a request (issue 11): the history named the assignee as the one who acted, and
any handle was accepted. Now the history and the audit log record who assigned it, the
request and the audit entry record to whom, and a handle no staff member has is refused
(nothing changes); on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from charter.app import Charter
from charter.errors import InputError
from charter.rights.requests import RequestQueue, RequestState
from charter.store.schema import audit_log


def _staff(charter: Charter, handle: str) -> None:
    charter.staff.grant(charter.gate.create_subject("account", "de").id, handle)


def test_the_history_names_who_assigned_and_to_whom(charter: Charter) -> None:
    _staff(charter, "ana")
    _staff(charter, "bo")
    person = charter.gate.create_subject("account", "de")
    queue = charter.rights.requests
    req = queue.file(person.id, "access")
    assigned = queue.assign(req.id, "bo", actor="staff:ana")
    assert assigned.state is RequestState.ASSIGNED
    assert assigned.assigned_to == "bo"
    assert queue.history(req.id)[-1][1:] == ("assigned", "staff:ana")
    with charter.stores.control().connect() as conn:
        entry = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail)
            .where(audit_log.c.action == "request_assigned")
            .order_by(audit_log.c.seq.desc())
        ).first()
    assert entry is not None
    assert entry.actor == "staff:ana"
    detail = json.loads(entry.detail)
    assert detail["request"] == req.id and detail["assigned_to"] == "bo"
    queue.assign(req.id, "ana", actor="staff:bo")  # handed back
    assert [row[1:] for row in queue.history_with_assignees(req.id)] == [
        ("open", "subject", None),
        ("assigned", "staff:ana", "bo"),
        ("assigned", "staff:bo", "ana"),
    ]


def test_an_unknown_handle_is_refused_and_changes_nothing(charter: Charter) -> None:
    _staff(charter, "ana")
    person = charter.gate.create_subject("account", "de")
    queue = charter.rights.requests
    req = queue.file(person.id, "access")
    with pytest.raises(InputError) as refused:
        queue.assign(req.id, "zed", actor="staff:ana")
    assert refused.value.field == "staff"
    assert "no staff member has this handle" in refused.value.message
    assert queue.get(req.id).state is RequestState.OPEN
    assert queue.get(req.id).assigned_to is None
    assert [s for _at, s, _a in queue.history(req.id)] == ["open"]


def test_a_queue_without_a_staff_directory_assigns_no_one(charter: Charter) -> None:
    _staff(charter, "ana")
    person = charter.gate.create_subject("account", "de")
    bare = RequestQueue(charter.gate)
    req = bare.file(person.id, "access")
    with pytest.raises(InputError):
        bare.assign(req.id, "ana")
