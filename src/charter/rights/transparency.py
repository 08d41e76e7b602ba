"""
Government-request register and yearly transparency report (G5).

Staff log each request from an authority: date received, authority, country, type, how
many accounts it concerned, and the outcome. No personal data is kept here (accounts are
counted, not named). :meth:`GovRegister.report` summarises one calendar year by country,
type and outcome, rendered as HTML (:func:`render_html`) or CSV (:func:`render_csv`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import insert, select

from charter.errors import InputError
from charter.rights import tables as rt
from charter.rights._common import new_id

if TYPE_CHECKING:
    from charter.gate import Gate

KINDS = ("user_data", "content_removal", "emergency", "preservation")
OUTCOMES = ("disclosed", "partially_disclosed", "rejected", "no_data", "pending")

_ENV = Environment(
    loader=PackageLoader("charter.rights", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)


@dataclass(frozen=True, slots=True)
class GovRequest:
    """One logged government request."""

    id: str
    received_on: str
    authority: str
    country: str
    kind: str
    accounts_affected: int
    outcome: str


@dataclass
class ReportRow:
    """One (country, type) line of the report."""

    country: str
    kind: str
    requests: int = 0
    accounts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class AuthorityRow:
    """Requests per authority."""

    authority: str
    country: str
    requests: int = 0


@dataclass
class TransparencyReport:
    """The summary of one year."""

    year: int
    rows: list[ReportRow]
    authorities: list[AuthorityRow]

    @property
    def total_requests(self) -> int:
        """Requests received in the year."""
        return sum(r.requests for r in self.rows)

    @property
    def total_accounts(self) -> int:
        """Accounts the year's requests concerned."""
        return sum(r.accounts for r in self.rows)


class GovRegister:
    """The register (control database)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def add(
        self,
        *,
        received_on: str,
        authority: str,
        country: str,
        kind: str,
        accounts_affected: int,
        outcome: str,
        actor: str = "staff",
    ) -> GovRequest:
        """
        Log a government request.

        Raises:
            InputError: a malformed date, unknown country, type or outcome, or a negative count.
        """
        try:
            date.fromisoformat(received_on)
        except ValueError:
            raise InputError(
                "received_on must be an ISO date (YYYY-MM-DD)", field="received_on"
            ) from None
        country = country.lower()
        if len(country) != 2 or not country.isalpha():
            raise InputError("country must be an ISO 3166-1 alpha-2 code", field="country")
        if kind not in KINDS:
            raise InputError(f"unknown type; use one of: {', '.join(KINDS)}", field="kind")
        if outcome not in OUTCOMES:
            raise InputError(f"unknown outcome; use one of: {', '.join(OUTCOMES)}", field="outcome")
        if accounts_affected < 0:
            raise InputError("accounts_affected cannot be negative", field="accounts_affected")
        if not authority.strip() or len(authority) > 200:
            raise InputError("authority must be 1-200 characters", field="authority")
        item = GovRequest(
            new_id("gr"), received_on, authority.strip(), country, kind, accounts_affected, outcome
        )
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                insert(rt.gov_requests).values(
                    id=item.id,
                    received_on=item.received_on,
                    authority=item.authority,
                    country=item.country,
                    kind=item.kind,
                    accounts_affected=item.accounts_affected,
                    outcome=item.outcome,
                    created_at=self.gate.clock(),
                    created_by=actor,
                )
            )
            self.gate.journal.record(
                conn,
                actor,
                "gov_request",
                None,
                {"id": item.id, "country": country, "kind": kind, "outcome": outcome},
            )
        return item

    def list(self, *, year: int | None = None) -> list[GovRequest]:
        """Logged requests, oldest first (of one year if given)."""
        g = rt.gov_requests
        query = select(g).order_by(g.c.received_on, g.c.id)
        if year is not None:
            query = query.where(
                g.c.received_on >= f"{year:04d}-01-01", g.c.received_on <= f"{year:04d}-12-31"
            )
        with self.gate.stores.control().connect() as conn:
            return [
                GovRequest(
                    r.id,
                    r.received_on,
                    r.authority,
                    r.country,
                    r.kind,
                    r.accounts_affected,
                    r.outcome,
                )
                for r in conn.execute(query)
            ]

    def report(self, year: int) -> TransparencyReport:
        """The summary of ``year``."""
        rows: dict[tuple[str, str], ReportRow] = {}
        authorities: dict[tuple[str, str], AuthorityRow] = {}
        for item in self.list(year=year):
            row = rows.setdefault((item.country, item.kind), ReportRow(item.country, item.kind))
            row.requests += 1
            row.accounts += item.accounts_affected
            row.outcomes[item.outcome] = row.outcomes.get(item.outcome, 0) + 1
            auth = authorities.setdefault(
                (item.authority, item.country), AuthorityRow(item.authority, item.country)
            )
            auth.requests += 1
        return TransparencyReport(
            year, [rows[k] for k in sorted(rows)], [authorities[k] for k in sorted(authorities)]
        )


def render_csv(report: TransparencyReport) -> str:
    """The report as CSV: one line per (country, type) with counts per outcome."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["year", "country", "type", "requests", "accounts_affected", *OUTCOMES])
    for row in report.rows:
        writer.writerow(
            [
                report.year,
                row.country.upper(),
                row.kind,
                row.requests,
                row.accounts,
                *(row.outcomes.get(o, 0) for o in OUTCOMES),
            ]
        )
    return out.getvalue()


def render_html(report: TransparencyReport, *, deployment: str) -> str:
    """The report as a standalone HTML page (autoescaped)."""
    return _ENV.get_template("transparency.html.j2").render(
        report=report, outcomes=OUTCOMES, deployment=deployment
    )
