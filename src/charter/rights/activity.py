"""
Who touched my data: a person's activity, built from the audit log of their region and of
the control database (requests), in plain words, newest first, filterable by service.

Entries are found by the person's keyed fingerprint through the ``(subject_ref, seq)`` index
(migration 0007), so a page costs the same however long the log is. The log holds codes and
counts only; the sentences here are made from them and the catalog, never from values.

The page cursor is ``r<seq>.c<seq>``: for each of the two logs, the entries below that seq
come next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charter.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from charter.gate import Gate
    from charter.gate.journal import LogEntry

MAX_PAGE = 100
SHOWN_KINDS = 6
"""Kinds of data one collect sentence names before it says "and n more"."""

PURPOSE_WORDS = {
    "app_functionality": "to make the service work",
    "personalization": "to personalize what you see",
    "analytics": "for statistics that improve the product",
    "advertising": "for ads",
}
SWITCH_KINDS = {
    "authorization": "Use this service",
    "personalization": "Personalized recommendations",
    "ads": "Personalized ads",
}
REQUEST_KINDS = {
    "access": "access",
    "correct": "correction",
    "delete": "deletion",
    "withdraw": "withdrawal",
    "complain": "complaint",
}
_CURSOR = re.compile(r"^r(\d{1,19})\.c(\d{1,19})$")


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing that happened to the person's data."""

    at: int
    actor: str
    who: str
    action: str
    services: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class ActivityPage:
    """A page of activity and the cursor of the next one (None on the last page)."""

    entries: tuple[Activity, ...]
    next_cursor: str | None


def _parse_cursor(cursor: str | None) -> tuple[int | None, int | None]:
    if not cursor:
        return None, None
    found = _CURSOR.match(cursor)
    if not found:
        raise InputError(
            "the page cursor is not valid; start again from the first page", field="cursor"
        )
    return int(found.group(1)), int(found.group(2))


class ActivityLog:
    """Reads and words a person's activity."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def page(
        self,
        subject_id: str,
        *,
        service: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
    ) -> ActivityPage:
        """
        One page of the person's activity, newest first (one service's only, with
        ``service``).

        Raises:
            InputError: an unknown service, a malformed cursor or a page size outside 1-100.
            NotFoundError: no such subject.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"a page holds 1 to {MAX_PAGE} entries", field="limit")
        if service is not None and service not in self.gate.catalog.services:
            raise InputError("unknown service", field="service")
        subject = self.gate.subject(subject_id)
        region_before, control_before = _parse_cursor(cursor)
        logs = (
            ("r", self.gate.stores.region(subject.region), region_before),
            ("c", self.gate.stores.control(), control_before),
        )
        found: list[tuple[str, LogEntry, Activity]] = []
        for name, engine, before in logs:
            for entry in self._matching(engine, subject_id, before, limit + 1, service):
                found.append((name, entry, self.describe(entry)))
        found.sort(key=lambda x: (x[1].at, x[0] == "r", x[1].seq), reverse=True)
        shown = found[:limit]
        if len(found) <= limit:
            return ActivityPage(tuple(a for _, _, a in shown), None)
        bounds = {"r": region_before, "c": control_before}
        for name, entry, _ in shown:
            current = bounds[name]
            bounds[name] = entry.seq if current is None else min(current, entry.seq)
        r = bounds["r"] if bounds["r"] is not None else 2**62
        c = bounds["c"] if bounds["c"] is not None else 2**62
        return ActivityPage(tuple(a for _, _, a in shown), f"r{r}.c{c}")

    def _matching(
        self, engine: Engine, subject_id: str, before: int | None, need: int, service: str | None
    ) -> list[LogEntry]:
        journal = self.gate.journal
        if service is None:
            return journal.for_subject(engine, subject_id, before=before, limit=need)
        kept: list[LogEntry] = []
        chunk = max(need * 2, 50)
        while len(kept) < need:
            batch = journal.for_subject(
                engine, subject_id, before=before, limit=chunk, mentioning=service
            )
            kept.extend(e for e in batch if service in self.describe(e).services)
            if len(batch) < chunk:
                break
            before = batch[-1].seq
        return kept[:need]

    # -- words ------------------------------------------------------------------------------

    def who(self, actor: str) -> str:
        """Who acted, in words."""
        kind, _, rest = actor.partition(":")
        if actor == "subject":
            return "You"
        if kind == "service":
            found = self.gate.catalog.services.get(rest)
            return found.name if found else rest
        if kind == "staff":
            return f"Privacy Center staff ({rest})"
        if kind == "job":
            return "An automatic job"
        if actor == "admin" or kind == "admin":
            return f"An administrator ({rest})" if rest else "An administrator"
        return actor

    def service_name(self, service: object) -> str:
        if not isinstance(service, str):
            return "all services"
        found = self.gate.catalog.services.get(service)
        return found.name if found else service

    def switch_name(self, key: str) -> str:
        owner, _, kind = key.partition(".")
        if owner == "system":
            found = self.gate.catalog.switches.get(kind)
            return found.name if found else kind
        return f"{self.service_name(owner)}: {SWITCH_KINDS.get(kind, kind).lower()}"

    def items_words(self, rows: list[list[Any]]) -> str:
        parts = []
        for s, d, p, *rest in rows[:SHOWN_KINDS]:
            n = rest[-1]
            label = self.gate.catalog.type_label(str(d)).lower()
            parts.append(
                f"{n} × {label} ({self.service_name(s)}, {PURPOSE_WORDS.get(str(p), str(p))})"
            )
        more = sum(int(r[-1]) for r in rows[SHOWN_KINDS:])
        return "; ".join(parts) + (f"; and {more} more" if more else "")

    def describe(self, entry: LogEntry) -> Activity:
        """An audit entry as a sentence (and the services it concerns)."""
        try:
            detail: dict[str, Any] = json.loads(entry.detail)
        except ValueError:
            detail = {}
        who = self.who(entry.actor)
        services, text = _SENTENCES.get(entry.action, _other)(self, who, entry.action, detail)
        return Activity(entry.at, entry.actor, who, entry.action, services, text)


Sentence = Callable[[ActivityLog, str, str, dict[str, Any]], tuple[tuple[str, ...], str]]


def _collect(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    ok, no = d.get("accepted") or [], d.get("refused") or []
    services = tuple(dict.fromkeys(str(r[0]) for r in [*ok, *no]))
    if ok:
        text = f"{who} collected {log.items_words(ok)}."
    else:
        text = f"{who} tried to collect {log.items_words(no)}; it was refused."
    if ok and no:
        text += f" Refused: {log.items_words(no)}."
    return services, text


def _refuse(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    if "use" in d:
        service = str(d["use"])
        purpose = PURPOSE_WORDS.get(str(d.get("purpose")), str(d.get("purpose")))
        return (service,), (
            f"{who} asked to use your {log.service_name(service)} data {purpose}; "
            f"it was refused ({str(d.get('reason', '')).replace('_', ' ')})."
        )
    return _collect(log, who, action, d)


def _use(log: ActivityLog, who: str, action: str, d: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    service = str(d.get("service"))
    purpose = PURPOSE_WORDS.get(str(d.get("purpose")), str(d.get("purpose")))
    n = d.get("records", 0)
    return (service,), f"{who} read {n} of your {log.service_name(service)} records {purpose}."


def _view(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    service = str(d.get("service"))
    if d.get("files"):
        return (service,), f"{who} downloaded a file of your {log.service_name(service)} items."
    return (
        service,
    ), f"{who} looked at {d.get('records', 0)} of your {log.service_name(service)} items."


def _export(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    return (), f"{who} made a copy of all your data ({d.get('records', 0)} records)."


def _erase(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    service = d.get("service")
    what = log.service_name(service)
    if d.get("data_type"):
        what += f", {log.gate.catalog.type_label(str(d['data_type'])).lower()}"
    n = d.get("records", 0)
    if "record_ref" in d:
        text = f"{who} deleted one item of {what}."
    else:
        text = f"{who} deleted {n} record{'' if n == 1 else 's'} of {what}."
    return ((str(service),) if isinstance(service, str) else ()), text


def _correct(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    service = str(d.get("service"))
    label = log.gate.catalog.type_label(str(d.get("data_type"))).lower()
    return (service,), f"{who} corrected one {label} item of {log.service_name(service)}."


def _switch(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    key = str(d.get("key", ""))
    owner = key.partition(".")[0]
    text = f"{who} turned “{log.switch_name(key)}” {'on' if d.get('value') else 'off'}."
    if d.get("deleted_records"):
        text += f" {d['deleted_records']} records were deleted."
    return ((owner,) if owner != "system" else ()), text


def _consent(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    scope = str(d.get("scope"))
    name = "general" if scope == "general" else log.service_name(scope)
    return (
        (scope,) if scope != "general" else ()
    ), f"{who} accepted version {d.get('version')} of the {name} privacy policy."


def _request(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    kind = REQUEST_KINDS.get(str(d.get("kind")), "")
    what = f"your {kind} request" if kind else "your request"
    verbs = {
        "request_file": f"{who} filed {'an' if kind[:1] in 'aeiou' else 'a'} {kind} request."
        if kind
        else f"{who} filed a request.",
        "request_assigned": f"{who} took {what}.",
        "request_answered": f"{who} answered {what}.",
        "request_closed": f"{who} closed {what}.",
        "request_corrected": f"{who} applied the correction you asked for.",
    }
    return (), verbs.get(action, f"{who} updated {what}.")


def _cloud_sync_words(d: dict[str, Any]) -> str:
    what = str(d.get("category", "a category")).replace("_", " ")
    if d.get("on"):
        return f"You switched on cloud sync of {what}."
    deleted = int(d.get("deleted") or 0)
    gone = (
        f"; its {deleted} cloud item{'s' if deleted != 1 else ''} were deleted" if deleted else ""
    )
    return f"You switched off cloud sync of {what}{gone}."


def _other(
    log: ActivityLog, who: str, action: str, d: dict[str, Any]
) -> tuple[tuple[str, ...], str]:
    words = {
        "subject_create": "Your account was created.",
        "shred": f"{who} destroyed your encryption key.",
        "shared_link_view": "Someone with your link opened a photo you shared (it was "
        "served without its location and other metadata).",
        "cloud_sync": _cloud_sync_words(d),
        "cloud_key_rotation": "One of your devices gave "
        f"{str(d.get('category', 'a category')).replace('_', ' ')} a new key (a device that "
        "held the old one was removed).",
        "cloud_web_unlock": "One of your devices let a browser session open your protected "
        "cloud items.",
    }
    return (), words.get(action, f"{who}: {action.replace('_', ' ')}.")


_SENTENCES: dict[str, Sentence] = {
    "collect": _collect,
    "refuse": _refuse,
    "use": _use,
    "view": _view,
    "export": _export,
    "erase": _erase,
    "delete": _erase,
    "correct": _correct,
    "switch": _switch,
    "consent": _consent,
    "request_file": _request,
    "request_assigned": _request,
    "request_answered": _request,
    "request_closed": _request,
    "request_corrected": _request,
}
