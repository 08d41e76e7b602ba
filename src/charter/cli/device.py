"""``charter device``: the reference device agent (init, run, privacy-report)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.device import Device
from charter.device.report import dashboard, ndjson
from charter.errors import CharterError

DeviceDir = Annotated[
    Path,
    typer.Option(
        "--device-dir", envvar="CHARTER_DEVICE_DIR", help="The device's own data directory."
    ),
]

app = typer.Typer(help="The reference device agent.", no_args_is_help=True)
console = Console(highlight=False)


@app.command("init")
def init(
    server: Annotated[str, typer.Option("--server", help="The Charter server's base URL.")],
    device_dir: DeviceDir = Path("charter-device"),
    token: Annotated[
        str,
        typer.Option(
            "--token",
            envvar="CHARTER_DEVICE_TOKEN",
            prompt=True,
            hide_input=True,
            help="The person's access token (at_...) or user token (ut_...).",
        ),
    ] = "",
    password: Annotated[
        str,
        typer.Option(
            "--password",
            envvar="CHARTER_DEVICE_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="The device's lock-screen password (6 characters or more).",
        ),
    ] = "",
    device_id: Annotated[str | None, typer.Option("--device-id", help="This device's id.")] = None,
) -> None:
    """Set up a device and enrol it with the person's account."""
    from charter.client import ApiError  # noqa: PLC0415

    try:
        device = Device.create(
            device_dir, password=password, server=server, token=token, device_id=device_id
        )
    except ApiError as error:
        raise CharterError(f"the server refused the enrolment: {error.message}") from None
    console.print(f"enrolled device {device.device_id} with {server} (keys: {device.keys.where})")
    device.close()


@app.command("run")
def run(
    device_dir: DeviceDir = Path("charter-device"),
    every: Annotated[float, typer.Option("--every", help="Seconds between checks.")] = 5.0,
) -> None:
    """Stay connected: carry out and confirm commands, read switches, sync the cloud."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Device(device_dir) as device:
        console.print(f"device {device.device_id} running; Ctrl-C to stop")
        try:
            device.run(stop, every=every, on_error=lambda e: console.print(f"[yellow]{e}[/]"))
        except KeyboardInterrupt:
            stop.set()


@app.command("privacy-report")
def privacy_report(
    device_dir: DeviceDir = Path("charter-device"),
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the NDJSON report to this file.")
    ] = None,
) -> None:
    """Every access to a permission in the last 30 days (this device only, never uploaded)."""
    with Device(device_dir) as device:
        records = device.owner.log.records()
        dashboard(records, console)
        if export is not None:
            export.write_text(ndjson(records))
            console.print(f"wrote {len(records)} accesses to {export}")
