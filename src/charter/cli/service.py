"""
``charter service key create|list|revoke``: service credentials (API keys) without Python.

A key is shown once, when it is made: Charter keeps only a keyed hash of its secret. Listing
shows ids, services, dates and state, never a secret. Revoking stops the key at once.

Mount with ``app.add_typer(service.app, name="service")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from charter.app import Charter
from charter.config import Settings
from charter.services.credentials import Credentials

console = Console()

DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]

app = typer.Typer(help="Services of the catalog: their credentials.", no_args_is_help=True)
key_app = typer.Typer(
    help="Service credentials (API keys): create (shown once), list, revoke.",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")


@contextmanager
def _credentials(data_dir: Path) -> Iterator[Credentials]:
    charter = Charter.open(Settings.from_env(data_dir=data_dir))
    try:
        yield charter.credentials
    finally:
        charter.close()


def _when(micros: int | None) -> str:
    if micros is None:
        return "-"
    return datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d %H:%M UTC")


@key_app.command("create")
def create(
    service: Annotated[str, typer.Argument(help="A service id of the catalog, e.g. cloud.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Make a credential for a service and print it (the only time it is shown)."""
    with _credentials(data_dir) as credentials:
        issued = credentials.create_api_key(service, actor="admin:cli")
    console.print(f"key id: {issued.key.id}\nservice: {service}", highlight=False)
    console.print(
        "credential (shown once; Charter keeps only a keyed hash, store it in your secret "
        "store now):",
        highlight=False,
    )
    print(issued.secret)  # plain stdout, one line, for `| read` or a secret manager


@key_app.command("list")
def list_keys(
    service: Annotated[
        str | None, typer.Option("--service", help="Only the keys of this service.")
    ] = None,
    data_dir: DataDir = Path("data"),
) -> None:
    """List credentials: id, service, when made, state (never a secret)."""
    with _credentials(data_dir) as credentials:
        keys = credentials.list_api_keys(service)
    table = Table("key id", "service", "created", "state")
    for k in keys:
        state = "active" if k.active else f"revoked {_when(k.revoked_at)}"
        table.add_row(k.id, k.service, _when(k.created_at), state)
    console.print(table)
    console.print(f"{len(keys)} key(s)", highlight=False)


@key_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (from `charter service key list`).")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Revoke a credential: it stops authenticating at once."""
    with _credentials(data_dir) as credentials:
        key = credentials.revoke_api_key(key_id, actor="admin:cli")
    console.print(f"revoked {key.id} ({key.service}) at {_when(key.revoked_at)}", highlight=False)
