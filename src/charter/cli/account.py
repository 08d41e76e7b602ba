"""
``charter account`` and ``charter oauth``: operator commands of the account service and the
OpenID provider. They parse, call the services and print; no personal value is printed
beyond what the operator typed.

Mount with ``app.add_typer(account.app, name="account")`` and
``app.add_typer(account.oauth_app, name="oauth")``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from charter.app import Charter
from charter.config import Settings
from charter.services.account import AccountService
from charter.services.oauth import KeyStore, OAuthProvider
from charter.services.oauth.clients import Client

console = Console()

DataDir = Annotated[
    Path, typer.Option("--data-dir", "-d", envvar="CHARTER_DATA_DIR", help="The data directory.")
]
AccountId = Annotated[str, typer.Argument(help="The account id (s_ and 32 hex digits).")]

app = typer.Typer(help="Accounts: create, freeze, unfreeze, block, unblock.", no_args_is_help=True)
oauth_app = typer.Typer(help="The OpenID provider: clients and signing keys.", no_args_is_help=True)
client_app = typer.Typer(help="Registered OAuth clients.", no_args_is_help=True)
keys_app = typer.Typer(help="ID token signing keys.", no_args_is_help=True)
oauth_app.add_typer(client_app, name="client")
oauth_app.add_typer(keys_app, name="keys")


def _accounts(data_dir: Path) -> AccountService:
    return Charter.open(Settings.from_env(data_dir=data_dir)).accounts


def _provider(data_dir: Path) -> OAuthProvider:
    return Charter.open(Settings.from_env(data_dir=data_dir)).oauth


@app.command("create")
def create(
    identifier: Annotated[
        str, typer.Option("--identifier", "-i", help="Email address or phone number.")
    ],
    country: Annotated[
        str, typer.Option("--country", "-c", help="ISO 3166-1 alpha-2; decides the region.")
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data_dir: DataDir = Path("data"),
) -> None:
    """Create a verified account (the password is prompted for, never an argument)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    account_id = _accounts(data_dir).create(identifier, password, country, actor="admin")
    console.print(account_id)


def _set(data_dir: Path, account_id: str, action: str) -> None:
    service = _accounts(data_dir)
    if action == "freeze":
        service.freeze(account_id, actor="admin")
    elif action == "unfreeze":
        service.set_status(account_id, "active", expect=("frozen",), actor="admin")
    elif action == "block":
        service.block(account_id, actor="admin")
    else:
        service.unblock(account_id, actor="admin")
    console.print(f"{account_id}: {service.status(account_id)['status']}")


@app.command("freeze")
def freeze(account_id: AccountId, data_dir: DataDir = Path("data")) -> None:
    """Freeze an account: sign-in refused, every session and OAuth grant token ended."""
    _set(data_dir, account_id, "freeze")


@app.command("unfreeze")
def unfreeze(account_id: AccountId, data_dir: DataDir = Path("data")) -> None:
    """Unfreeze an account."""
    _set(data_dir, account_id, "unfreeze")


@app.command("block")
def block(account_id: AccountId, data_dir: DataDir = Path("data")) -> None:
    """Block an account (security or abuse): sign-in refused, every session ended."""
    _set(data_dir, account_id, "block")


@app.command("unblock")
def unblock(account_id: AccountId, data_dir: DataDir = Path("data")) -> None:
    """Lift a block."""
    _set(data_dir, account_id, "unblock")


@client_app.command("add")
def client_add(
    name: Annotated[
        str, typer.Option("--name", "-n", help="Shown to people on the consent screen.")
    ],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", "-r", help="Exact redirect URI (repeatable).")
    ],
    confidential: Annotated[
        bool, typer.Option("--confidential", help="Issue a client secret (server-side apps).")
    ] = False,
    post_logout_redirect_uri: Annotated[
        list[str] | None,
        typer.Option(
            "--post-logout-redirect-uri",
            "-l",
            help="Where RP-initiated logout may return (exact, repeatable).",
        ),
    ] = None,
    sector: Annotated[
        str | None,
        typer.Option("--sector", help="Sector identifier (default: the redirect URIs' host)."),
    ] = None,
    sector_identifier_uri: Annotated[
        str | None,
        typer.Option(
            "--sector-identifier-uri",
            help="https URL serving a JSON array of the client's redirect URIs (OIDC Core 8.1).",
        ),
    ] = None,
    id_token_on_refresh: Annotated[
        bool,
        typer.Option(
            "--id-token-on-refresh",
            help="Return a new ID token with every refresh of an openid grant (default: only "
            "the sign-in's token response carries one; OIDC Core 12.2).",
        ),
    ] = False,
    data_dir: DataDir = Path("data"),
) -> None:
    """Register a client and print what its developer needs; a confidential client's secret
    is printed this once."""
    provider = _provider(data_dir)
    issued = provider.clients.add(
        name,
        list(redirect_uri),
        public=not confidential,
        sector=sector,
        post_logout_redirect_uris=list(post_logout_redirect_uri or []),
        sector_identifier_uri=sector_identifier_uri,
        id_token_on_refresh=id_token_on_refresh,
    )
    _print_client(provider, issued.client)
    if issued.secret:
        console.print(f"client_secret: {issued.secret}")
        console.print(
            "  (shown once: store it now; it cannot be shown again)", style="bold", highlight=False
        )


@client_app.command("show")
def client_show(
    client_id: Annotated[str, typer.Argument(help="The client id.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """What a client's developer needs, again (never the secret)."""
    provider = _provider(data_dir)
    _print_client(provider, provider.clients.get(client_id))


def _print_client(provider: OAuthProvider, client: Client) -> None:
    """Everything a relying party is configured with."""
    lines = [
        ("issuer", provider.issuer),
        ("discovery", f"{provider.issuer}/.well-known/openid-configuration"),
        ("client_id", client.client_id),
        ("name", client.name),
        (
            "type",
            "public (PKCE, no secret)"
            if client.public
            else "confidential (client_secret_basic or client_secret_post)",
        ),
        ("redirect_uris", " ".join(client.redirect_uris)),
        ("post_logout_redirect_uris", " ".join(client.post_logout_redirect_uris) or "(none)"),
        ("allowed web origins (CORS)", " ".join(sorted(client.origins))),
        ("sector", client.sector),
        ("scopes", "openid profile"),
        ("PKCE", "required, S256"),
        (
            "ID token on refresh",
            "yes" if client.id_token_on_refresh else "no (the sign-in's token response has one)",
        ),
    ]
    if client.sector_identifier_uri:
        lines.append(("sector_identifier_uri", client.sector_identifier_uri))
    for label, value in lines:
        console.print(f"{label}: {value}", soft_wrap=True, highlight=False)
    if not os.environ.get("CHARTER_ISSUER"):
        console.print(
            "note: CHARTER_ISSUER is not set, so `charter serve` names the address it binds "
            "as the issuer (the one above for the default --host and --port); set "
            "CHARTER_ISSUER to the public https URL in production",
            soft_wrap=True,
            highlight=False,
        )


@client_app.command("list")
def client_list(data_dir: DataDir = Path("data")) -> None:
    """List registered clients."""
    for c in _provider(data_dir).clients.list():
        kind = "public" if c.public else "confidential"
        console.print(
            f"{c.client_id}\t{kind}\t{c.sector}\t{c.name}\t{' '.join(c.redirect_uris)}",
            soft_wrap=True,
        )


@client_app.command("remove")
def client_remove(
    client_id: Annotated[str, typer.Argument(help="The client id.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Remove a client: its codes and tokens stop working at once."""
    _provider(data_dir).remove_client(client_id)
    console.print(f"removed {client_id}")


@keys_app.command("rotate")
def keys_rotate(data_dir: DataDir = Path("data")) -> None:
    """Add a new signing key (old ones stay published until retired)."""
    console.print(f"signing key: {KeyStore.for_data_dir(data_dir).rotate()}")


@keys_app.command("retire")
def keys_retire(
    kid: Annotated[str, typer.Argument(help="Key id to stop publishing.")],
    data_dir: DataDir = Path("data"),
) -> None:
    """Stop publishing an old signing key."""
    KeyStore.for_data_dir(data_dir).retire(kid)
    console.print(f"retired {kid}")
