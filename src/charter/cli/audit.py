"""``charter audit``: verify every audit chain and witness signed tree heads."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from charter.cli.admin import DataDir, open_charter
from charter.gate.journal import read_witness, tree_head, verify_chain, write_witness
from charter.store.regions import CONTROL

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
console = Console()


def _witness_path(data_dir: Path, name: str) -> Path:
    return data_dir / "audit" / f"{name.strip('_')}.sth.json"


@app.command("verify")
def verify(data_dir: DataDir = Path("data")) -> None:
    """Verify every database's chain (and its witnessed head); exit 1 on any problem."""
    charter = open_charter(data_dir)
    table = Table(title="audit chains")
    for col in ("database", "entries", "status"):
        table.add_column(col)
    failed = False
    engines = {
        CONTROL: charter.stores.control(),
        **{r: charter.stores.region(r) for r in charter.catalog.regions},
    }
    for name, engine in engines.items():
        witnessed = read_witness(_witness_path(data_dir, name))
        with engine.connect().execution_options(readonly=True) as conn:
            report = verify_chain(conn, witnessed=witnessed, key=charter.keyring.hmac_key)
        status = "[green]ok[/]" if report.ok else "[red]" + "; ".join(report.problems[:5]) + "[/]"
        failed |= not report.ok
        table.add_row(name.strip("_"), str(report.entries), status)
    console.print(table)
    if failed:
        raise typer.Exit(1)


@app.command("witness")
def witness(data_dir: DataDir = Path("data")) -> None:
    """Sign each chain's current head and save it (copy these files off the machine)."""
    charter = open_charter(data_dir)
    engines = {
        CONTROL: charter.stores.control(),
        **{r: charter.stores.region(r) for r in charter.catalog.regions},
    }
    for name, engine in engines.items():
        with engine.connect().execution_options(readonly=True) as conn:
            sth = tree_head(conn, charter.keyring.hmac_key, charter.clock())
        path = _witness_path(data_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_witness(path, sth)
        console.print(f"{name.strip('_')}: {sth.size} entries, root {sth.root[:16]}…")
