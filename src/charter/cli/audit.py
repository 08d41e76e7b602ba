"""``charter audit``: verify every audit chain and witness signed tree heads."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.admin import DataDir, open_charter

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
console = Console()


@app.command("verify")
def verify(data_dir: DataDir = Path("data")) -> None:
    """Verify every database's chain (and its witnessed head); exit 1 on any problem."""
    charter = open_charter(data_dir)
    table = Table(title="audit chains")
    for col in ("database", "entries", "status"):
        table.add_column(col)
    failed = False
    for name, report in charter.journal.verify().items():
        status = "[green]ok[/]" if report.ok else "[red]" + "; ".join(report.problems[:5]) + "[/]"
        failed |= not report.ok
        table.add_row(name, str(report.entries), status)
    console.print(table)
    if failed:
        raise typer.Exit(1)


@app.command("witness")
def witness(data_dir: DataDir = Path("data")) -> None:
    """Sign each chain's current head and save it (copy these files off the machine)."""
    charter = open_charter(data_dir)
    for name, sth in charter.journal.witness().items():
        console.print(f"{name}: {sth.size} entries, root {sth.root[:16]}…")
