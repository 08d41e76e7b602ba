"""
Rights requests and complaints (G4): id, state machine, timestamps and the legal deadline.

States::

    open ──assign──▶ assigned ──answer──▶ answered ──close──▶ closed
      │                 │                                    ▲
      └────────────────┴──────────────close──────────────────┘

Every request is due 30 days after it was filed; :meth:`RequestQueue.alarms` lists open
requests whose deadline is near (5 days by default, so the alarm sounds before day 30) and
:meth:`RequestQueue.overdue` those past it, on the injected clock. What the person writes,
and the staff's answer, are stored through the gate as ``privacy_center`` records; the
request row only points at them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import Event
from charter.gate.journal import AuditEntry
from charter.rights import tables as rt
from charter.rights._common import DAY, LEGAL_DEADLINE_DAYS, canonical, new_id
from charter.store.schema import audit_log
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

SERVICE = "privacy_center"
ALARM_DAYS = 5
"""Days before the deadline at which an open request raises an alarm."""


class RequestKind(StrEnum):
    """What a person asks for."""

    ACCESS = "access"
    CORRECT = "correct"
    DELETE = "delete"
    WITHDRAW = "withdraw"
    COMPLAIN = "complain"


class RequestState(StrEnum):
    """Where a request is."""

    OPEN = "open"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


OUTCOMES = ("fulfilled", "partially_fulfilled", "rejected", "withdrawn")

_NEXT: dict[RequestState, frozenset[RequestState]] = {
    RequestState.OPEN: frozenset(
        {RequestState.ASSIGNED, RequestState.ANSWERED, RequestState.CLOSED}
    ),
    RequestState.ASSIGNED: frozenset(
        {RequestState.ASSIGNED, RequestState.ANSWERED, RequestState.CLOSED}
    ),
    RequestState.ANSWERED: frozenset({RequestState.CLOSED, RequestState.ANSWERED}),
    RequestState.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Request:
    """A request as staff and its requester see it (no personal text)."""

    id: str
    kind: RequestKind
    state: RequestState
    service: str | None
    subject_ref: str
    assigned_to: str | None
    outcome: str | None
    result: dict[str, Any]
    has_message: bool
    has_answer: bool
    created_at: int
    updated_at: int
    due_at: int
    closed_at: int | None

    def days_left(self, now: int) -> float:
        """Days until the legal deadline (negative once overdue)."""
        return (self.due_at - now) / DAY


def _request(r: Any) -> Request:
    return Request(
        id=r.id,
        kind=RequestKind(r.kind),
        state=RequestState(r.state),
        service=r.service,
        subject_ref=r.subject_ref,
        assigned_to=r.assigned_to,
        outcome=r.outcome,
        result=json.loads(r.result) if r.result else {},
        has_message=r.message_record is not None,
        has_answer=r.answer_record is not None,
        created_at=r.created_at,
        updated_at=r.updated_at,
        due_at=r.due_at,
        closed_at=r.closed_at,
    )


StaffCheck = Callable[[str], bool]
"""Whether a handle names a staff member (the composition root wires the staff roles)."""


def _no_staff_directory(_handle: str) -> bool:
    return False


class RequestQueue:
    """Requests and complaints of a deployment (control database).

    ``is_staff`` tells staff handles from anything else; without it (a queue built outside
    the composition root) no one can be assigned a request."""

    def __init__(self, gate: Gate, *, is_staff: StaffCheck | None = None) -> None:
        self.gate = gate
        self.is_staff = is_staff or _no_staff_directory

    def _store_text(self, subject_id: str, data_type: str, text: str, actor: str) -> str:
        if not text.strip() or len(text) > 20_000:
            raise InputError("the text must be 1-20000 characters", field="message")
        result = self.gate.collect(
            [Event(subject_id, SERVICE, data_type, Purpose.APP_FUNCTIONALITY, text)], actor=actor
        )
        item = result.items[0]
        if not item.accepted or item.record_id is None:
            raise RefusedError(item.message, code=item.reason, field="message")
        return item.record_id

    def file(
        self,
        subject_id: str,
        kind: RequestKind | str,
        *,
        service: str | None = None,
        message: str | None = None,
        actor: str = "subject",
    ) -> Request:
        """
        File a request or complaint; it is due in 30 days.

        Raises:
            InputError: unknown kind or service, or an empty/oversized message.
            NotFoundError: no such subject.
        """
        try:
            kind = RequestKind(kind)
        except ValueError:
            raise InputError(
                f"unknown request kind; use one of: {', '.join(k.value for k in RequestKind)}",
                field="kind",
            ) from None
        if service is not None and service not in self.gate.catalog.services:
            raise InputError("unknown service", field="service")
        gate = self.gate
        subject = gate.subject(subject_id)
        record = None
        if message is not None:
            data_type = "complaint_message" if kind is RequestKind.COMPLAIN else "request_message"
            record = self._store_text(subject_id, data_type, message, actor)
        with self.gate.stores.control().begin() as conn:
            rid = self.insert(
                conn,
                subject_id,
                subject.region,
                kind,
                service=service,
                message_record=record,
                actor=actor,
            )
        return self.get(rid)

    def insert(
        self,
        conn: Connection,
        subject_id: str,
        region: str,
        kind: RequestKind,
        *,
        service: str | None = None,
        message_record: str | None = None,
        actor: str = "subject",
    ) -> str:
        """Insert an open request inside the caller's control-database transaction; its id."""
        gate = self.gate
        now = gate.clock()
        rid = new_id("rq")
        conn.execute(
            insert(rt.requests).values(
                id=rid,
                kind=kind.value,
                subject_id=subject_id,
                subject_ref=gate.subject_ref(subject_id),
                region=region,
                service=service,
                state=RequestState.OPEN.value,
                message_record=message_record,
                created_at=now,
                updated_at=now,
                due_at=now + LEGAL_DEADLINE_DAYS * DAY,
            )
        )
        conn.execute(
            insert(rt.request_events).values(
                request_id=rid, at=now, state=RequestState.OPEN.value, actor=actor
            )
        )
        gate.journal.record(
            conn, actor, "request_file", subject_id, {"request": rid, "kind": kind.value}
        )
        return rid

    def get(self, request_id: str, *, subject_id: str | None = None) -> Request:
        """
        One request (only the subject's own when ``subject_id`` is given).

        Raises:
            NotFoundError: no such request.
        """
        q = rt.requests
        where = [q.c.id == request_id]
        if subject_id is not None:
            where.append(q.c.subject_id == subject_id)
        with self.gate.stores.control().connect() as conn:
            row = conn.execute(select(q).where(*where)).first()
        if row is None:
            raise NotFoundError("no such request", field="request_id")
        return _request(row)

    def for_subject(self, subject_id: str) -> list[Request]:
        """A subject's requests, newest first."""
        q = rt.requests
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(
                select(q)
                .where(q.c.subject_id == subject_id)
                .order_by(q.c.created_at.desc(), q.c.id)
            ).all()
        return [_request(r) for r in rows]

    def queue(
        self,
        *,
        state: RequestState | str | None = None,
        include_closed: bool = False,
        limit: int = 500,
    ) -> list[Request]:
        """The staff queue: requests by deadline, soonest first (closed ones only on demand)."""
        q = rt.requests
        query = select(q).order_by(q.c.due_at, q.c.id).limit(limit)
        if state is not None:
            query = query.where(q.c.state == RequestState(state).value)
        elif not include_closed:
            query = query.where(q.c.state != RequestState.CLOSED.value)
        with self.gate.stores.control().connect() as conn:
            return [_request(r) for r in conn.execute(query)]

    def alarms(self, *, within_days: float = ALARM_DAYS) -> list[Request]:
        """Unclosed requests due within ``within_days`` (overdue ones included)."""
        horizon = self.gate.clock() + int(within_days * DAY)
        return [r for r in self.queue() if r.due_at <= horizon]

    def overdue(self) -> list[Request]:
        """Unclosed requests past their legal deadline."""
        now = self.gate.clock()
        return [r for r in self.queue() if r.due_at < now]

    def history(self, request_id: str) -> list[tuple[int, str, str]]:
        """Every state change of a request: (time, state, actor)."""
        e = rt.request_events
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(
                select(e.c.at, e.c.state, e.c.actor)
                .where(e.c.request_id == request_id)
                .order_by(e.c.id)
            ).all()
        return [(r.at, r.state, r.actor) for r in rows]

    def assignees(self, request_id: str) -> list[str | None]:
        """To whom each assignment of a request went, in order, from the audit log (where
        each ``request_assigned`` entry names the assignee; None for entries older than
        that). The history's ``assigned`` rows name who assigned it."""
        a = audit_log
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(
                select(a.c.detail)
                .where(
                    a.c.action == "request_" + RequestState.ASSIGNED.value,
                    a.c.detail.contains(f'"request":"{request_id}"', autoescape=True),
                )
                .order_by(a.c.seq)
            ).scalars()
            found: list[str | None] = []
            for text in rows:
                detail = json.loads(text)
                if detail.get("request") == request_id:
                    to = detail.get("assigned_to")
                    found.append(str(to) if to is not None else None)
        return found

    def history_with_assignees(self, request_id: str) -> list[tuple[int, str, str, str | None]]:
        """:meth:`history` with, for each ``assigned`` row, the staff member it went to."""
        assignees = iter(self.assignees(request_id))
        return [
            (
                at,
                state,
                actor,
                next(assignees, None) if state == RequestState.ASSIGNED.value else None,
            )
            for at, state, actor in self.history(request_id)
        ]

    def _move(
        self,
        request_id: str,
        state: RequestState,
        actor: str,
        *,
        audit: dict[str, Any] | None = None,
        **values: Any,
    ) -> Request:
        current = self.get(request_id)
        if state not in _NEXT[current.state]:
            raise InputError(
                f"a {current.state.value} request cannot become {state.value}",
                code="invalid_transition",
                field="state",
            )
        now = self.gate.clock()
        q = rt.requests
        if state is RequestState.CLOSED:
            values["closed_at"] = now
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                update(q)
                .where(q.c.id == request_id)
                .values(state=state.value, updated_at=now, **values)
            )
            conn.execute(
                insert(rt.request_events).values(
                    request_id=request_id, at=now, state=state.value, actor=actor
                )
            )
            # under the requester's keyed fingerprint, so their activity shows staff actions
            entry = AuditEntry(
                now, actor, "request_" + state.value, current.subject_ref or None,
                {"request": request_id, "kind": current.kind.value, **(audit or {})},
            )  # fmt: skip
            self.gate.journal.record_many(conn, [entry])
        return self.get(request_id)

    def assign(self, request_id: str, staff: str, *, actor: str | None = None) -> Request:
        """
        Assign a request to the staff member with the handle ``staff``. ``actor`` is who
        does it (``staff:<handle>``, ``admin``; default: the assignee takes it): the history
        and the audit log record the actor, and the audit entry names the assignee.

        Raises:
            InputError: ``staff`` is no staff member's handle (``field="staff"``).
        """
        if not staff or len(staff) > 60 or not self.is_staff(staff):
            raise InputError(
                "no staff member has this handle; assign the request to a staff account's handle",
                field="staff",
            )
        by = actor or f"staff:{staff}"
        return self._move(
            request_id, RequestState.ASSIGNED, by, audit={"assigned_to": staff}, assigned_to=staff
        )

    def answer(self, request_id: str, staff: str, text: str) -> Request:
        """
        Answer a request; the answer is stored through the gate for the requester.

        Raises:
            RefusedError: the requester's account no longer exists.
        """
        row = self._row(request_id)
        if row.subject_id is None:
            raise RefusedError(
                "the requester's account was deleted; close the request instead",
                code="subject_erased",
            )
        record = self._store_text(row.subject_id, "request_answer", text, f"staff:{staff}")
        return self._move(
            request_id,
            RequestState.ANSWERED,
            f"staff:{staff}",
            answer_record=record,
            assigned_to=row.assigned_to or staff,
        )

    def close(
        self, request_id: str, actor: str, *, outcome: str, result: dict[str, Any] | None = None
    ) -> Request:
        """Close a request with its outcome (``fulfilled``, ``partially_fulfilled``, ``rejected``, ``withdrawn``)."""
        if outcome not in OUTCOMES:
            raise InputError(f"unknown outcome; use one of: {', '.join(OUTCOMES)}", field="outcome")
        extra: dict[str, Any] = {"outcome": outcome}
        if result is not None:
            extra["result"] = canonical(result)
        return self._move(request_id, RequestState.CLOSED, actor, **extra)

    def _row(self, request_id: str) -> Any:
        q = rt.requests
        with self.gate.stores.control().connect() as conn:
            row = conn.execute(select(q).where(q.c.id == request_id)).first()
        if row is None:
            raise NotFoundError("no such request", field="request_id")
        return row

    def texts(self, request_id: str, *, actor: str) -> dict[str, str | None]:
        """
        The message and answer of a request, read through the gate (audited as a use).

        Raises:
            NotFoundError: no such request.
        """
        row = self._row(request_id)
        out: dict[str, str | None] = {"message": None, "answer": None}
        if row.subject_id is None:
            return out
        wanted = {row.message_record: "message", row.answer_record: "answer"}
        for rec in self.gate.read(
            row.subject_id, service=SERVICE, purpose=Purpose.APP_FUNCTIONALITY, actor=actor
        ):
            if rec.id in wanted and rec.id is not None:
                out[wanted[rec.id]] = rec.value
        return out
