"""``charter device``: the reference device agent (init, run, privacy-report)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.client.account import StepUp, StepUpAnswer, Tokens
from charter.device import Device
from charter.device.lost import describe
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


Email = Annotated[
    str | None,
    typer.Option(
        "--email",
        envvar="CHARTER_DEVICE_EMAIL",
        help="Sign in with the account's email (or phone number) and password.",
    ),
]
AccountPassword = Annotated[
    str | None,
    typer.Option(
        "--account-password",
        envvar="CHARTER_ACCOUNT_PASSWORD",
        help="The account's password (asked when --email is given and this is not).",
    ),
]
NoInput = Annotated[
    bool,
    typer.Option(
        "--no-input", help="Never ask: a sign-in that needs a second step is refused instead."
    ),
]


def _asker(no_input: bool) -> StepUp | None:
    """Answers a step-up by asking the person (a code, a TOTP code or a recovery code)."""
    if no_input:
        return None

    def ask(methods: Sequence[str]) -> StepUpAnswer | None:
        if methods == ["approval"] or not methods:
            return None
        if "code" in methods:
            return StepUpAnswer(code=typer.prompt("The code sent to you").strip())
        if "approval" in methods:
            console.print("Approve this sign-in on a signed-in device, or answer here.")
        answer = typer.prompt("A code from your authenticator app (or a recovery code)").strip()
        return StepUpAnswer(totp=answer) if answer.isdigit() else StepUpAnswer(recovery_code=answer)

    return ask


def _sign_in(server: str, email: str, password: str | None, no_input: bool) -> Tokens:
    from charter.client import ApiError  # noqa: PLC0415
    from charter.client.account import StepUpRequiredError  # noqa: PLC0415
    from charter.device.session import sign_in  # noqa: PLC0415

    if password is None:
        if no_input:
            raise CharterError("--no-input: pass the account password with --account-password")
        password = typer.prompt("Account password", hide_input=True)
    try:
        return sign_in(server, email, password, answer=_asker(no_input))
    except StepUpRequiredError as error:
        raise CharterError(str(error)) from None
    except ApiError as error:
        raise CharterError(f"the server refused the sign-in: {error.message}") from None


@app.command("init")
def init(
    server: Annotated[str, typer.Option("--server", help="The Charter server's base URL.")],
    device_dir: DeviceDir = Path("charter-device"),
    email: Email = None,
    account_password: AccountPassword = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="CHARTER_DEVICE_TOKEN",
            help="Instead of signing in: the person's access token (at_...) or user token "
            "(ut_...).",
        ),
    ] = None,
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
    find_device: Annotated[
        bool, typer.Option("--find-device/--no-find-device", help="Switch Find Device on.")
    ] = False,
    phone_number: Annotated[
        str | None,
        typer.Option("--phone-number", help="Find Device: a number the finder can call."),
    ] = None,
    no_input: NoInput = False,
) -> None:
    """Set up a device and enrol it with the person's account (sign in, or a token)."""
    from charter.client import ApiError  # noqa: PLC0415

    if (email is None) == (token is None):
        raise CharterError("sign in with --email (and the account password), or give --token")
    refresh = None
    if email is not None:
        tokens = _sign_in(server, email, account_password, no_input)
        token, refresh = tokens.access_token, tokens.refresh_token
    try:
        device = Device.create(
            device_dir,
            password=password,
            server=server,
            token=token,
            refresh_token=refresh,
            device_id=device_id,
            find_device=find_device,
            phone_number=phone_number,
        )
    except ApiError as error:
        raise CharterError(f"the server refused the enrolment: {error.message}") from None
    console.print(f"enrolled device {device.device_id} with {server} (keys: {device.keys.where})")
    if device.find_device is not None:
        console.print(f"Find Device on; lock screen: {describe(device.lock_screen)}")
    device.close()


@app.command("sign-in")
def sign_in_again(
    email: Annotated[str, typer.Option("--email", envvar="CHARTER_DEVICE_EMAIL")],
    device_dir: DeviceDir = Path("charter-device"),
    account_password: AccountPassword = None,
    no_input: NoInput = False,
) -> None:
    """Sign the person in again on an enrolled device (after its session ended)."""
    with Device(device_dir) as device:
        server = str(device.config.get("server") or "")
        if not server:
            raise CharterError("this device has no server; set it up with charter device init")
        tokens = _sign_in(server, email, account_password, no_input)
        device.session.keep(tokens.access_token, tokens.refresh_token)
        console.print(f"device {device.device_id} signed in again")


@app.command("run")
def run(
    device_dir: DeviceDir = Path("charter-device"),
    every: Annotated[float, typer.Option("--every", help="Seconds between checks.")] = 5.0,
    once: Annotated[
        bool, typer.Option("--once", help="One round (commands, switches, cloud), then exit.")
    ] = False,
) -> None:
    """Stay connected: carry out and confirm commands, read switches, sync the cloud, send
    allowed usage, answer Find Device (a remote erase ends it)."""
    stop = threading.Event()
    if not once:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Device(device_dir) as device:
        if once:
            done = device.poll()
            device.refresh_switches()
            synced = device.sync_cloud()
            sent = device.usage.flush()
            if device.find_device is not None:
                device.find_device.poll()
            console.print(
                f"device {device.device_id}: {len(done)} commands done, {synced} cloud changes, "
                f"{sent} usage events sent; lock screen: {describe(device.lock_screen)}"
            )
            return
        console.print(f"device {device.device_id} running; Ctrl-C to stop")
        try:
            device.run(stop, every=every, on_error=lambda e: console.print(f"[yellow]{e}[/]"))
        except KeyboardInterrupt:
            stop.set()
        if device.erased:
            console.print("the device was erased from the owner's account")


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
