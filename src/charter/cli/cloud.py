"""``charter cloud``: staff commands of the cloud service (plans, usage, purge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.app import Charter
from charter.config import Settings
from charter.services.cloud import PLANS

DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]
AccountId = Annotated[str, typer.Argument(help="The account id (s_ and 32 hex digits).")]

app = typer.Typer(help="Cloud: plans, usage, trash purge.", no_args_is_help=True)
console = Console(highlight=False)


def _open(data_dir: Path) -> Charter:
    return Charter.open(Settings.from_env(data_dir=data_dir))


@app.command("plans")
def plans() -> None:
    """The membership plans: quota and trash window."""
    table = Table("plan", "quota", "trash keeps items")
    for plan in PLANS.values():
        table.add_row(
            plan.name, f"{plan.quota_bytes / (1 << 30):.0f} GiB", f"{plan.trash_days} days"
        )
    console.print(table)


@app.command("plan")
def set_plan(
    account_id: AccountId,
    plan: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLANS)}.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Put an account on a plan (its trash window and quota follow)."""
    charter = _open(data_dir)
    try:
        chosen = charter.cloud.set_plan(charter.gate.subject(account_id).id, plan)
    finally:
        charter.close()
    console.print(f"{account_id}: {chosen.name} ({chosen.trash_days}-day trash)")


@app.command("usage")
def usage(account_id: AccountId, data_dir: DataDir = Path("data")) -> None:
    """An account's plan, quota and bytes used."""
    charter = _open(data_dir)
    try:
        plan, used = charter.cloud.usage(charter.gate.subject(account_id).id)
    finally:
        charter.close()
    console.print(f"plan: {plan.name}")
    console.print(f"used: {used} of {plan.quota_bytes} bytes")
    console.print(f"trash keeps items: {plan.trash_days} days")


@app.command("purge")
def purge(data_dir: DataDir = Path("data")) -> None:
    """Destroy trashed items whose window ended, drop expired uploads and destroy the sealed
    copies behind shared links that ended (also part of ``charter purge``)."""
    charter = _open(data_dir)
    try:
        items = charter.cloud.purge_expired()
        uploads = charter.cloud.uploads.purge_expired()
        copies = charter.cloud.sealed_links.purge_ended()
    finally:
        charter.close()
    console.print(f"destroyed {items} cloud items whose trash window ended")
    console.print(f"destroyed {copies} sealed copies behind shared links that ended")
    console.print(f"dropped {uploads} uploads not completed in time")
