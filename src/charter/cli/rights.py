"""
Rights commands: ``verify-erasure``, ``delete-account``, ``export``, ``resume-erasures``,
``requests list|show|assign|answer|close``, ``transparency report`` and ``gov-request add``.

Mount with ``app.add_typer(rights.app)`` (no name): the commands then sit at the top level.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.app import Charter
from charter.config import Settings
from charter.rights import Rights
from charter.rights._common import rfc3339
from charter.rights.transparency import render_csv, render_html
from charter.rights.verify import check_markers

app = typer.Typer(help="User rights: erasure proofs, requests, transparency.", no_args_is_help=True)
requests_app = typer.Typer(help="The request and complaint queue.", no_args_is_help=True)
transparency_app = typer.Typer(help="Transparency reports.", no_args_is_help=True)
gov_app = typer.Typer(help="The government-request register.", no_args_is_help=True)
app.add_typer(requests_app, name="requests")
app.add_typer(transparency_app, name="transparency")
app.add_typer(gov_app, name="gov-request")

console = Console()
DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]
Staff = Annotated[str, typer.Option("--staff", help="Who is acting (recorded in the history).")]


def _rights(data_dir: Path) -> Rights:
    return Charter.open(Settings.from_env(data_dir=data_dir)).rights


@app.command("verify-erasure")
def verify_erasure(
    subject: Annotated[str, typer.Argument(help="The subject id that was erased.")],
    marker: Annotated[
        list[str] | None,
        typer.Option(
            "--marker", "-m", help="A value known to have been in the subject's data (repeatable)."
        ),
    ] = None,
    record: Annotated[
        list[str] | None,
        typer.Option("--record", "-r", help="A record id of the subject (repeatable)."),
    ] = None,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Read every row and every file (grows with the whole deployment); "
            "--marker implies it.",
        ),
    ] = False,
    data_dir: DataDir = Path("data"),
) -> None:
    """Look for residue of a subject; exit 1 if any. By default each registered table is
    queried by its subject index and each registered file writer by what it registered;
    --deep scans databases, WAL, blob folders, exports, the outbox and every other file."""
    try:
        check_markers(marker or [])
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--marker") from None
    charter = Charter.open(Settings.from_env(data_dir=data_dir))
    try:
        report = charter.rights.verify_erasure(
            subject, record_ids=record or [], markers=marker or [], deep=deep or bool(marker)
        )
    finally:
        charter.close()
    for f in report.findings:
        console.print(
            f"[red]residue[/] {f.where}: {f.needle} ({f.encoding}) x{f.count}", highlight=False
        )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(
        f"files_scanned: {report.files_scanned}\nbytes_scanned: {report.bytes_scanned}\ntables_scanned: {report.tables_scanned}\nresidual_hits: {len(report.findings)}"
    )
    if not report.clean:
        raise typer.Exit(1)


@app.command("delete-account")
def delete_account(
    subject: Annotated[str, typer.Argument(help="The account's subject id.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Delete an account (crypto-shredding first); rerun to resume after a crash."""

    def tick(step: str, n: int) -> None:
        print(f"progress {step} {n}", flush=True)

    request_id = _rights(data_dir).delete_account(subject, actor="admin", progress=tick)
    print(f"done {request_id}", flush=True)


@app.command("resume-erasures")
def resume_erasures(data_dir: DataDir = Path("data")) -> None:
    """Finish interrupted account deletions, clean up interrupted exports, and erase what
    registrations that never finished left behind."""
    charter = Charter.open(Settings.from_env(data_dir=data_dir))
    console.print(f"{charter.rights.resume()} erasures resumed")
    console.print(f"{charter.accounts.sweep_orphans()} unfinished registrations erased")


@app.command("export")
def export(
    subject: Annotated[str, typer.Argument(help="The subject id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the zip.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Write a subject's export archive to a file (an access request made by staff)."""
    rights = _rights(data_dir)
    with out.open("wb") as f:
        for chunk in rights.stream(subject, actor="admin"):
            f.write(chunk)
    console.print(f"wrote {out}")


@requests_app.command("list")
def requests_list(
    state: Annotated[str | None, typer.Option(help="open, assigned, answered or closed.")] = None,
    data_dir: DataDir = Path("data"),
) -> None:
    """The queue, soonest deadline first."""
    rights = _rights(data_dir)
    now = rights.gate.clock()
    table = Table("id", "kind", "state", "service", "assigned", "due", "days left")
    for r in rights.requests.queue(state=state):
        table.add_row(
            r.id,
            r.kind.value,
            r.state.value,
            r.service or "",
            r.assigned_to or "",
            rfc3339(r.due_at) or "",
            f"{r.days_left(now):.1f}",
        )
    console.print(table)


@requests_app.command("show")
def requests_show(request_id: str, staff: Staff = "cli", data_dir: DataDir = Path("data")) -> None:
    """One request, its texts (read through the gate, audited) and history."""
    rights = _rights(data_dir)
    r = rights.requests.get(request_id)
    texts = rights.requests.texts(request_id, actor=f"staff:{staff}")
    history = [
        {"at": rfc3339(at), "state": s, "actor": a}
        for at, s, a in rights.requests.history(request_id)
    ]
    json.dump(
        {
            "id": r.id,
            "kind": r.kind.value,
            "state": r.state.value,
            "service": r.service,
            "due_at": rfc3339(r.due_at),
            "outcome": r.outcome,
            "texts": texts,
            "history": history,
        },
        sys.stdout,
        indent=2,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


@requests_app.command("assign")
def requests_assign(
    request_id: str,
    to: Annotated[
        str | None,
        typer.Option("--to", help="The staff handle to assign it to (default: --staff)."),
    ] = None,
    staff: Staff = "cli",
    data_dir: DataDir = Path("data"),
) -> None:
    """Assign a request to a staff member (an unknown handle is refused)."""
    assignee = to or staff
    request = _rights(data_dir).requests.assign(request_id, assignee, actor=f"staff:{staff}")
    console.print(f"{request.state.value} to {assignee} by staff:{staff}", highlight=False)


@requests_app.command("answer")
def requests_answer(
    request_id: str,
    text: Annotated[str, typer.Option("--text", help="The answer.")],
    staff: Staff = "cli",
    data_dir: DataDir = Path("data"),
) -> None:
    """Answer a request (stored through the gate for the requester)."""
    console.print(_rights(data_dir).requests.answer(request_id, staff, text).state.value)


@requests_app.command("close")
def requests_close(
    request_id: str,
    outcome: Annotated[
        str, typer.Option(help="fulfilled, partially_fulfilled, rejected or withdrawn.")
    ] = "fulfilled",
    staff: Staff = "cli",
    data_dir: DataDir = Path("data"),
) -> None:
    """Close a request with its outcome."""
    console.print(
        _rights(data_dir).requests.close(request_id, f"staff:{staff}", outcome=outcome).state.value
    )


@transparency_app.command("report")
def transparency_report(
    year: Annotated[int, typer.Option("--year", help="Calendar year.")],
    fmt: Annotated[str, typer.Option("--format", help="html or csv.")] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")
    ] = None,
    data_dir: DataDir = Path("data"),
) -> None:
    """The yearly transparency report of government requests."""
    rights = _rights(data_dir)
    report = rights.register.report(year)
    if fmt not in ("html", "csv"):
        raise typer.BadParameter("use html or csv", param_hint="--format")
    text = (
        render_csv(report)
        if fmt == "csv"
        else render_html(report, deployment=rights.gate.catalog.info.name)
    )
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@gov_app.command("add")
def gov_add(
    received_on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD received.")],
    authority: Annotated[str, typer.Option(help="The requesting authority.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2.")],
    kind: Annotated[
        str, typer.Option("--type", help="user_data, content_removal, emergency or preservation.")
    ],
    accounts: Annotated[int, typer.Option(help="Accounts affected.")],
    outcome: Annotated[
        str, typer.Option(help="disclosed, partially_disclosed, rejected, no_data or pending.")
    ],
    staff: Staff = "cli",
    data_dir: DataDir = Path("data"),
) -> None:
    """Log a government request."""
    item = _rights(data_dir).register.add(
        received_on=received_on,
        authority=authority,
        country=country,
        kind=kind,
        accounts_affected=accounts,
        outcome=outcome,
        actor=f"staff:{staff}",
    )
    console.print(item.id)
