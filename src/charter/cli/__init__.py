"""
The ``charter`` command line: Typer commands that parse, call and print.

A :class:`~charter.errors.CharterError` is printed as a readable message with a non-zero
exit code, never as a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from charter.cli import account as account_cli
from charter.cli import admin
from charter.cli import audit as audit_cli
from charter.cli import cloud as cloud_cli
from charter.cli import device as device_cli
from charter.cli import find_device as find_device_cli
from charter.cli import photos as photos_cli
from charter.cli import rights as rights_cli
from charter.cli import service as service_cli
from charter.cli import usage as usage_cli
from charter.cli.catalog import app as catalog_app
from charter.errors import CharterError

app = typer.Typer(
    name="charter",
    help="Charter: a privacy-by-design personal-data platform. Declare, enforce, prove.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.add_typer(catalog_app, name="catalog")
app.command("init")(admin.init)
app.command("purge")(admin.purge)
app.command("serve")(admin.serve)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(rights_cli.app)
app.add_typer(account_cli.app, name="account")
app.add_typer(account_cli.oauth_app, name="oauth")
app.add_typer(service_cli.app, name="service")
app.add_typer(cloud_cli.app, name="cloud")
app.add_typer(device_cli.app, name="device")
app.add_typer(find_device_cli.app, name="find-device")

app.add_typer(photos_cli.app, name="photo")
app.add_typer(usage_cli.app, name="usage")
app.add_typer(usage_cli.ads_app, name="ads")

err_console = Console(stderr=True)


def main() -> None:
    """Entry point of the ``charter`` console script."""
    try:
        app()
    except CharterError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False)
        sys.exit(1)
