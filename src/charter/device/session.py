"""
The person's sign-in on a device: the access token and the refresh token, kept inside the
owner's encrypted space (never in ``device.json``). An access token lives minutes; when the
server answers 401 the transport asks :meth:`Session.renew`, which rotates the refresh token
over ``/v1/account/token/refresh``. When the session itself has ended (idle or absolute
limit, revoked, signed out elsewhere) the device must be signed in again
(``charter device sign-in``). A device set up with a bare token (no refresh token) works
until that token expires.
"""

from __future__ import annotations

import httpx

from charter.client import ApiError, Transport
from charter.client.account import AccountClient, StepUp, Tokens
from charter.device.db import Connection, set_setting, setting
from charter.errors import AuthError

TOKEN = "token"  # noqa: S105 - the name of a setting, not a secret
REFRESH = "refresh_token"
MODEL = "Charter reference device"


class Session:
    """The tokens of the person signed in on this device."""

    def __init__(self, conn: Connection, server: str | None) -> None:
        self.conn = conn
        self.server = server
        self.renewed = 0
        """How many times the access token was renewed."""

    @property
    def token(self) -> str | None:
        """The current access (or user) token."""
        return setting(self.conn, TOKEN)

    @property
    def renewable(self) -> bool:
        """Whether a refresh token is kept."""
        return setting(self.conn, REFRESH) is not None

    def keep(self, token: str, refresh_token: str | None = None) -> None:
        """Keep new tokens (a bare token forgets any refresh token)."""
        set_setting(self.conn, TOKEN, token)
        if refresh_token:
            set_setting(self.conn, REFRESH, refresh_token)
        else:
            self.conn.execute("delete from settings where key = ?", (REFRESH,))

    def renew(self) -> str:
        """
        A new access token from the refresh token (which rotates).

        Raises:
            AuthError: no refresh token, or the session ended (``signed_out``): sign in again.
        """
        refresh = setting(self.conn, REFRESH)
        if not refresh or not self.server:
            raise AuthError(
                "the device's token expired; sign in again: charter device sign-in",
                code="signed_out",
            )
        accounts = AccountClient(self.server)
        try:
            tokens = accounts.refresh(refresh)
        except ApiError:
            raise AuthError(
                "the device's session ended (idle too long, past its limit or revoked); sign in "
                "again: charter device sign-in",
                code="signed_out",
            ) from None
        finally:
            accounts.close()
        self.keep(tokens.access_token, tokens.refresh_token)
        self.renewed += 1
        return tokens.access_token


def sign_in(
    server: str,
    identifier: str,
    password: str,
    *,
    answer: StepUp | None = None,
    device_id: str | None = None,
    http: httpx.Client | None = None,
) -> Tokens:
    """
    Sign the person in on a device with their account's identifier and password.

    Raises:
        ApiError: wrong identifier or password (the server does not say which), or a
            locked or frozen account.
        StepUpRequiredError: the server asked for a second step that ``answer`` did not give.
    """
    accounts = AccountClient(server, http=http)
    try:
        return accounts.sign_in(
            identifier, password, answer=answer, device_id=device_id, device_model=MODEL
        )
    finally:
        if http is None:
            accounts.close()


def verify_account_password(transport: Transport, password: str) -> None:
    """
    Have the server verify the account's password (``POST /v1/account/reauth``, which also
    steps the session up), before something as final as a factory reset.

    Raises:
        AuthError: ``account_password_refused``: a wrong password, or the device's credential
            is not an account session (set it up with the email and password).
        httpx.TransportError: the server could not be reached.
    """
    try:
        transport.request("POST", "/v1/account/reauth", json={"password": password}, expect=(204,))
    except ApiError as error:
        raise AuthError(
            f"the server did not accept the account password ({error.code}); nothing was reset",
            code="account_password_refused",
        ) from None
