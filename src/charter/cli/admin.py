"""Operator commands: init, db upgrade, keys, purge, audit, subjects and serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from charter.app import Charter
from charter.catalog import load_catalog
from charter.config import Settings
from charter.gate import jobs
from charter.store import migrate
from charter.store.registry import registered
from charter.store.scale import scale_markdown

if TYPE_CHECKING:
    from charter.services.account import AccountService

console = Console()

DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]


def open_charter(data_dir: Path, **overrides: object) -> Charter:
    """Open the deployment in ``data_dir`` (settings from the environment, then
    ``overrides``)."""
    return Charter.open(Settings.from_env(data_dir=data_dir, **overrides))


def init(data_dir: DataDir = Path("data")) -> None:
    """Create the data directory and its keyring (0600); then migrate every database."""
    keyring_path = data_dir / "keyring.json"
    if keyring_path.exists():
        console.print(f"keyring already present: {keyring_path}")
    else:
        Charter.init(data_dir)
        console.print(f"created {keyring_path} (mode 0600); keep a backup somewhere safe")
    charter = open_charter(data_dir)
    charter.stores.control()
    for region in charter.catalog.regions:
        charter.stores.region(region)
    console.print(f"databases ready for {len(charter.catalog.regions)} regions under {data_dir}")


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = Path("data")) -> None:
    """Migrate the control database and every region's database to the newest schema."""
    charter = open_charter(data_dir)
    engines = [charter.stores.control()] + [
        charter.stores.region(r) for r in charter.catalog.regions
    ]
    for engine in engines:
        migrate.upgrade(engine)
    console.print(f"{len(engines)} databases at revision {migrate.head_revision()}")


@db_app.command("scale-doc")
def db_scale_doc() -> None:
    """Print docs/scale.md: the Citus calls that distribute every table, from the registry."""
    typer.echo(scale_markdown(registered()), nl=False)


keys_app = typer.Typer(help="Key-encryption keys.", no_args_is_help=True)


@keys_app.command("rotate")
def keys_rotate(data_dir: DataDir = Path("data")) -> None:
    """Add a new key-encryption key version and rewrap every data key; rerun after a crash,
    it finishes the interrupted rotation instead of adding another version."""
    charter = open_charter(data_dir)
    with _progress() as progress:
        task = progress.add_task("rewrapping data keys", total=None)
        report = jobs.rotate_keys(charter.gate, progress=lambda n: progress.advance(task, n))
    if report.resumed:
        console.print(
            f"finished the interrupted rotation to KEK version {report.new_version} (no new "
            f"version added); {report.rewrapped} data keys rewrapped"
        )
        return
    console.print(
        f"KEK version {report.new_version} is current; {report.rewrapped} data keys rewrapped"
    )


@keys_app.command("rewrap")
def keys_rewrap(data_dir: DataDir = Path("data")) -> None:
    """Finish an interrupted rotation: rewrap data keys still on an old version."""
    charter = open_charter(data_dir)
    with _progress() as progress:
        task = progress.add_task("rewrapping data keys", total=None)
        done = jobs.rewrap_data_keys(charter.gate, progress=lambda n: progress.advance(task, n))
    console.print(f"{done} data keys rewrapped to version {charter.keyring.current_version}")


@keys_app.command("status")
def keys_status(data_dir: DataDir = Path("data")) -> None:
    """Show KEK versions (never key material)."""
    charter = open_charter(data_dir)
    kr = charter.keyring
    console.print(
        f"current: {kr.current_version}; live: {list(kr.versions)}; retired: {list(kr.retired_versions)}"
    )


def purge(
    data_dir: DataDir = Path("data"),
    batch: Annotated[int, typer.Option(min=1, max=100_000)] = 5_000,
) -> None:
    """Delete records past their retention, with their blobs, destroy cloud items whose
    trash window ended and the location history of devices off for 30 days (idempotent,
    resumable)."""
    charter = open_charter(data_dir)
    total = jobs.count_expired(charter.gate)
    with _progress() as progress:
        task = progress.add_task("purging expired records", total=total)
        report = jobs.purge_expired(
            charter.gate, batch=batch, progress=lambda n: progress.advance(task, n)
        )
    trashed = charter.cloud.purge_expired()
    charter.cloud.uploads.purge_expired()
    charter.cloud.sealed_links.purge_ended()
    located = charter.find_device.purge_history()
    console.print(f"purged {report.records} records and {report.blobs} blobs")
    console.print(f"destroyed {trashed} cloud items whose trash window ended")
    console.print(f"destroyed {located} find-device reports of devices off for 30 days")


def serve(
    data_dir: DataDir = Path("data"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Seed demo accounts (embedded default only).")
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes (PostgreSQL deployments only: SQLite has one writer).",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API and the Privacy Center (with demo accounts on the embedded default)."""
    from charter.asgi import create_app  # noqa: PLC0415
    from charter.cli import server  # noqa: PLC0415 - only the server needs uvicorn

    if workers > 1:  # refused before anything is created
        settings = Settings.from_env(data_dir=data_dir)
        regions = load_catalog(settings.catalog_path).regions
        server.check_workers(settings, regions, workers)
    if not (data_dir / "keyring.json").exists():
        init(data_dir)
    # The OpenID issuer is the address served here unless CHARTER_ISSUER names another.
    issuer = None if os.environ.get("CHARTER_ISSUER") else f"http://{host}:{port}"
    charter = open_charter(data_dir, issuer=issuer)
    charter.rights.resume()  # finish what a crash interrupted before serving
    charter.accounts.sweep_orphans()
    if demo and charter.settings.control_url is None:
        _seed_demo(charter, charter.accounts, host, port)
    if workers > 1:
        charter.close()  # each worker process opens the deployment itself
        server.run_workers(
            workers, data_dir=data_dir, issuer=issuer, host=host, port=port, log_level="info"
        )
        return
    server.run(create_app(charter), host=host, port=port, log_level="info")


def _seed_demo(charter: Charter, accounts: AccountService, host: str, port: int) -> None:
    """Create the demo accounts once and say where to sign in."""
    from charter.demo import seed_demo  # noqa: PLC0415

    info = seed_demo(charter, accounts=accounts)
    console.print(f"Privacy Center: http://{host}:{port}/  (staff pages: /admin)")
    if info.created:
        console.print("[bold]Demo accounts (sample data; these passwords are shown only now):[/]")
        for account in (info.user, info.staff):
            if account.password:
                console.print(
                    f"  {account.role:5}  {account.identifier}  password: {account.password}"
                )
    else:
        console.print(
            "Demo accounts: demo.user@example.org and demo.staff@example.org (passwords were shown on first start)"
        )
    console.print(
        f"Sign-in codes are written to {charter.settings.data_dir / 'outbox' / 'codes.jsonl'}"
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
