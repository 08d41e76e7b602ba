"""
``charter find-device``: the owner's side of Find Device over HTTP, with the owner's key
file (``--keys``, 0600; the private keys never leave it), plus the staff ``purge``.

    charter find-device keygen --keys ~/.charter/fd.key --server URL --token TOKEN
    charter find-device devices
    charter find-device locate fd_…          # waits for the device, opens the position here
    charter find-device lost-mode on fd_… --message "Please call" --phone "+49 30 1234"
    charter find-device ring|lock|erase fd_…
    charter find-device history              # sealed positions opened here

The server URL and the access token come from ``--server``/``--token`` or the environment
(``CHARTER_SERVER``, ``CHARTER_TOKEN``); the key file from ``--keys`` or ``CHARTER_FD_KEYS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from charter.client import ApiError
from charter.client.find_device import FindDeviceOwner
from charter.client.find_device_crypto import OwnerKeyFile, b64d, b64e

Server = Annotated[
    str, typer.Option("--server", envvar="CHARTER_SERVER", help="The Charter server's URL.")
]
Token = Annotated[
    str,
    typer.Option("--token", envvar="CHARTER_TOKEN", help="Your access token.", show_default=False),
]
Keys = Annotated[
    Path, typer.Option("--keys", envvar="CHARTER_FD_KEYS", help="Your owner key file (0600).")
]
DeviceArg = Annotated[str, typer.Argument(help="The device id (fd_ and 32 hex digits).")]
Wait = Annotated[
    float, typer.Option(min=0, max=30, help="Seconds to wait for the device's answer.")
]
DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]

app = typer.Typer(
    help="Find Device, the owner's side: keys, locate, lost mode, ring, lock, erase, history.",
    no_args_is_help=True,
)
lost_app = typer.Typer(help="Lost mode: lock the device, show a message, report periodically.")
app.add_typer(lost_app, name="lost-mode")
console = Console(highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    return typer.Exit(code)


def _when(micros: int | None) -> str:
    if micros is None:
        return "—"
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _load(path: Path) -> OwnerKeyFile:
    if not path.is_file():
        raise _fail(f"{path}: no owner key file; make one with `charter find-device keygen`")
    try:
        return OwnerKeyFile.load(path)
    except (ValueError, KeyError):
        raise _fail(f"{path}: not an owner key file") from None


@contextmanager
def _owner(server: str, token: str, keys: Path) -> Iterator[FindDeviceOwner]:
    owner = FindDeviceOwner(server, token, _load(keys))
    try:
        yield owner
    except ApiError as exc:
        raise _fail(f"{exc.message} ({exc.code})") from None
    finally:
        owner.close()


def _position(report: dict[str, Any]) -> str:
    p = report.get("position")
    if p is None:
        return "sealed to another key (not readable with this key file)"
    check = "signed by the device" if report.get("verified") else "not verified"
    return f"{p['lat']}, {p['lon']} (within {p['acc']:.0f} m) at {_when(p['at'])}, {check}"


@app.command("keygen")
def keygen(
    keys: Keys,
    server: Server,
    token: Token,
    wrap: Annotated[
        bool,
        typer.Option(
            "--wrap/--no-wrap",
            help="Also store the keys wrapped under a passphrase (asked here, never sent), "
            "so the Privacy Center page can open your positions too.",
        ),
    ] = False,
) -> None:
    """Make your owner keys in a new key file and register their public parts."""
    if keys.exists():
        raise _fail(f"{keys} exists; choose another path (it is never overwritten)", 2)
    made = OwnerKeyFile.generate()
    body: dict[str, Any] = {
        "seal_public": b64e(made.seal_public),
        "sign_public": b64e(made.sign_public),
    }
    if wrap:
        passphrase = typer.prompt(
            "Passphrase (12 characters or more)", hide_input=True, confirmation_prompt=True
        )
        if len(passphrase) < 12:
            raise _fail("choose a passphrase of 12 characters or more", 2)
        body["wrapped"] = b64e(made.wrap(passphrase))
    keys.parent.mkdir(parents=True, exist_ok=True)
    made.save(keys)
    with _owner(server, token, keys) as owner:
        owner.transport.request("PUT", "/v1/find-device/owner", json=body)
    console.print(f"owner keys written to {keys} (0600) and registered")
    console.print(
        "Keep this file safe: without it (and without your passphrase, if you wrapped the "
        "keys) your past locations cannot be read. You keep control of your devices."
    )


@app.command("wrap")
def wrap_keys(keys: Keys, server: Server, token: Token) -> None:
    """Let the Privacy Center page use your key file's keys: they are wrapped here under a
    passphrase (asked here, never sent) and the wrapped copy is stored with your account."""
    found = _load(keys)
    passphrase = typer.prompt(
        "Passphrase (12 characters or more)", hide_input=True, confirmation_prompt=True
    )
    if len(passphrase) < 12:
        raise _fail("choose a passphrase of 12 characters or more", 2)
    body = {
        "seal_public": b64e(found.seal_public),
        "sign_public": b64e(found.sign_public),
        "wrapped": b64e(found.wrap(passphrase)),
    }
    with _owner(server, token, keys) as owner:
        owner.transport.request("PUT", "/v1/find-device/owner", json=body)
    console.print("your keys are stored wrapped; unlock them on the Find my device page")


@app.command("import-web")
def import_web(keys: Keys, server: Server, token: Token) -> None:
    """Write the keys you set up on the Privacy Center page to a key file (the passphrase
    is asked here and never sent)."""
    if keys.exists():
        raise _fail(f"{keys} exists; choose another path (it is never overwritten)", 2)
    from charter.client.http import Transport  # noqa: PLC0415

    transport = Transport(server, token)
    try:
        found = transport.request("GET", "/v1/find-device/owner").json()
    except ApiError as exc:
        raise _fail(f"{exc.message} ({exc.code})") from None
    finally:
        transport.close()
    if not found.get("wrapped"):
        raise _fail("your keys were not set up on the Privacy Center page")
    try:
        opened = OwnerKeyFile.unwrap(
            b64d(found["wrapped"]), typer.prompt("Passphrase", hide_input=True)
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    keys.parent.mkdir(parents=True, exist_ok=True)
    opened.save(keys)
    console.print(f"owner keys written to {keys} (0600)")


@app.command("devices")
def devices(server: Server, token: Token, keys: Keys) -> None:
    """Your devices: on or off, lost mode, last seen."""
    with _owner(server, token, keys) as owner:
        found = owner.devices()
    if not found:
        console.print("no device has Find Device on")
    for d in found:
        lost = " · lost mode on" if d["lost"] else ""
        console.print(f"{d['id']}  {d['state']}{lost} · last seen {_when(d['last_seen'])}")


@app.command("locate")
def locate(
    device: DeviceArg,
    server: Server,
    token: Token,
    keys: Keys,
    wait: Wait = 30,
) -> None:
    """Ask a device where it is; its sealed answer is opened here with your key file."""
    with _owner(server, token, keys) as owner:
        found = owner.locate(device, wait)
    if found is None:
        raise _fail("the device has not answered yet; see `charter find-device history` later")
    console.print(_position(found))


def _send(
    server: str, token: str, keys: Path, wait: float, device: str, cmd: str, **args: Any
) -> None:
    with _owner(server, token, keys) as owner:
        sent = owner.send(device, cmd, **args)
        answer = owner.answer(sent["id"], wait)["command"]
    outcome = answer["outcome"] or "not answered yet (the device is offline)"
    console.print(f"{cmd.replace('_', ' ')}: {outcome}")


@app.command("ring")
def ring(device: DeviceArg, server: Server, token: Token, keys: Keys, wait: Wait = 30) -> None:
    """Make a device ring."""
    _send(server, token, keys, wait, device, "ring")


@app.command("lock")
def lock(device: DeviceArg, server: Server, token: Token, keys: Keys, wait: Wait = 30) -> None:
    """Lock a device."""
    _send(server, token, keys, wait, device, "lock")


@app.command("erase")
def erase(
    device: DeviceArg,
    server: Server,
    token: Token,
    keys: Keys,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the erase.")] = False,
    wait: Wait = 30,
) -> None:
    """Erase a device: it destroys its keys and your data on it (it stays bound to you)."""
    if not yes:
        raise _fail("erase destroys the device's keys and your data on it; add --yes", 2)
    _send(server, token, keys, wait, device, "erase")


@lost_app.command("on")
def lost_on(
    device: DeviceArg,
    server: Server,
    token: Token,
    keys: Keys,
    message: Annotated[str, typer.Option(help="The lock screen's message.")],
    phone: Annotated[str, typer.Option(help="The number the lock screen shows.")],
    interval: Annotated[
        int, typer.Option(min=60, max=86_400, help="Seconds between reports.")
    ] = 900,
    wait: Wait = 30,
) -> None:
    """Turn lost mode on: the device locks, shows your message and number, and sends its
    sealed position every INTERVAL seconds."""
    _send(server, token, keys, wait, device, "lost_mode_on", message=message, phone=phone,
          interval_s=interval)  # fmt: skip


@lost_app.command("off")
def lost_off(device: DeviceArg, server: Server, token: Token, keys: Keys, wait: Wait = 30) -> None:
    """Turn lost mode off."""
    _send(server, token, keys, wait, device, "lost_mode_off")


@app.command("history")
def history(server: Server, token: Token, keys: Keys) -> None:
    """Your commands and sealed positions, opened here with your key file."""
    with _owner(server, token, keys) as owner:
        found = owner.history()
    console.print("commands:")
    for c in found["commands"]:
        console.print(
            f"  {_when(c['created_at'])}  {c['kind']:<14} {c['device_id']}  {c['outcome'] or '—'}"
        )
    console.print("positions:")
    for r in found["reports"]:
        console.print(f"  {r['kind']:<7} {r['device_id']}  {_position(r)}")


@app.command("purge")
def purge(data_dir: DataDir = Path("data")) -> None:
    """Staff: destroy the location history of devices off for 30 days (also part of
    ``charter purge``)."""
    from charter.app import Charter  # noqa: PLC0415
    from charter.config import Settings  # noqa: PLC0415

    charter = Charter.open(Settings.from_env(data_dir=data_dir))
    try:
        gone = charter.find_device.purge_history()
    finally:
        charter.close()
    console.print(f"destroyed {gone} sealed positions of devices off for 30 days")
