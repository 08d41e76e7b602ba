"""Staff pages: the audit log with chain verification, the government-request register and
the yearly transparency report (HTML and CSV)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from charter.app import Charter
from charter.errors import InputError
from charter.rights.transparency import KINDS, OUTCOMES, render_csv, render_html
from charter.web._routing import WebRoute
from charter.web.admin.queue import Staff, handle
from charter.web.deps import csrf_protect, redirect, render, services, web_session

router = APIRouter(prefix="/admin", route_class=WebRoute, dependencies=[Depends(csrf_protect)])

RECENT = 15


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry as shown (a shortened subject fingerprint, never an id)."""

    seq: int
    at: int
    actor: str
    action: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class Chain:
    """One database's verification result."""

    name: str
    entries: int
    ok: bool
    problems: tuple[str, ...]


def recent(charter: Charter) -> dict[str, list[Entry]]:
    """The newest entries of every existing database's log."""
    out = {}
    for name, engine in charter.journal.databases(existing_only=True).items():
        out[name] = [
            Entry(
                e.seq,
                e.at,
                e.actor,
                e.action,
                (e.subject_ref[:10] + "…") if e.subject_ref else "—",
                _detail(e.detail),
            )
            for e in charter.journal.recent(engine, RECENT)
        ]
    return out


def _detail(raw: str) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return "(unreadable)"
    if not isinstance(data, dict):
        return str(data)[:160]
    text = ", ".join(f"{k}={v}" for k, v in data.items())
    return text if len(text) <= 160 else text[:159] + "…"


def verify_all(charter: Charter) -> list[Chain]:
    """Verify every existing database's chain, against its witnessed head when one is kept."""
    return [
        Chain(name, report.entries, report.ok, tuple(report.problems[:5]))
        for name, report in charter.journal.verify(existing_only=True).items()
    ]


def _audit_page(request: Request, chains: list[Chain] | None) -> Response:
    logs = recent(services(request).charter)
    return render(
        request, "admin/audit.html", {"title": "Audit log", "logs": logs, "chains": chains}
    )


@router.get("/audit", include_in_schema=False)
def audit(request: Request, user: Staff) -> Response:
    """The newest audit entries of each database."""
    return _audit_page(request, None)


@router.post("/audit/verify", include_in_schema=False)
def verify(request: Request, user: Staff) -> Response:
    """Verify every audit chain and show the result."""
    charter = services(request).charter
    chains = verify_all(charter)
    charter.gate.audit_admin(
        f"staff:{handle(user)}", "audit_verify", {"ok": all(c.ok for c in chains)}
    )
    return _audit_page(request, chains)


@router.get("/gov", include_in_schema=False)
def register(request: Request, user: Staff) -> Response:
    """The government-request register and its form."""
    web = services(request)
    year = datetime.fromtimestamp(web.charter.clock() / 1_000_000, tz=UTC).year
    return render(
        request,
        "admin/gov.html",
        {
            "title": "Government requests",
            "items": list(reversed(web.rights.register.list())),
            "kinds": KINDS,
            "outcomes": OUTCOMES,
            "year": year,
            "today": datetime.fromtimestamp(web.charter.clock() / 1_000_000, tz=UTC)
            .date()
            .isoformat(),
        },
    )


@router.post("/gov", include_in_schema=False)
def add_gov_request(
    request: Request,
    user: Staff,
    received_on: Annotated[str, Form(max_length=10)],
    authority: Annotated[str, Form(max_length=200)],
    country: Annotated[str, Form(max_length=2)],
    kind: Annotated[str, Form(max_length=40)],
    accounts_affected: Annotated[int, Form(ge=0, le=10_000_000)],
    outcome: Annotated[str, Form(max_length=40)],
) -> Response:
    """Log a government request."""
    services(request).rights.register.add(
        received_on=received_on,
        authority=authority,
        country=country,
        kind=kind,
        accounts_affected=accounts_affected,
        outcome=outcome,
        actor=f"staff:{handle(user)}",
    )
    web_session(request).say("Government request logged.", "success")
    return redirect("/admin/gov")


@router.get("/transparency/{year}", include_in_schema=False)
def transparency(request: Request, user: Staff, year: int, format: str = "html") -> Response:
    """The yearly transparency report as HTML or CSV."""
    if not 1990 <= year <= 2200:
        raise InputError("choose a year between 1990 and 2200", field="year")
    web = services(request)
    report = web.rights.register.report(year)
    if format == "csv":
        return PlainTextResponse(
            render_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="transparency-{year}.csv"'},
        )
    html = render_html(report, deployment=web.charter.catalog.info.name)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
