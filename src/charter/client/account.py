"""
Signing in to a Charter account over HTTP (``/v1/account``): a password sign-in, the
step-up the server may ask for (a code sent to the person, a TOTP code, a recovery code, or
an approval on another device) and the rotation of the session's refresh token.

    from charter.client.account import AccountClient
    accounts = AccountClient("https://charter.example")
    tokens = accounts.sign_in("ana@example.org", password, answer=ask_the_person)

A step-up with no way to answer it (``answer`` is None, or gives up) raises
:class:`StepUpRequiredError`, which says which methods the server offered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from charter.client.http import ApiError, error_of

ROOT = "/v1/account"


@dataclass(frozen=True, slots=True)
class Tokens:
    """A session's tokens: a short access token and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    expires_in: int
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class StepUpAnswer:
    """The person's answer to a step-up: one of the three (an approval needs none)."""

    code: str | None = None
    totp: str | None = None
    recovery_code: str | None = None


StepUp = Callable[[Sequence[str]], StepUpAnswer | None]
"""Asked with the methods the server offers; the answer, or None to give up."""


class StepUpRequiredError(Exception):
    """The server asked for a step-up that could not be answered here."""

    def __init__(self, methods: Sequence[str]) -> None:
        offered = ", ".join(methods) or "none"
        super().__init__(
            "this sign-in needs a second step (the server offers: "
            f"{offered}); answer it where you can type (a terminal), or sign in with a token"
        )
        self.methods = tuple(methods)


class AccountClient:
    """The account API of one server, without a credential (it makes them)."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=30)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(ROOT + path, json=body)
        if response.status_code not in (200, 201, 202):
            raise error_of(response)
        return dict(response.json())

    def sign_in(
        self,
        identifier: str,
        password: str,
        *,
        answer: StepUp | None = None,
        device_id: str | None = None,
        device_model: str | None = None,
        attempts: int = 3,
    ) -> Tokens:
        """
        Sign in with a password, answering a step-up through ``answer`` (up to ``attempts``
        answers; an approval on another device is polled once per answer).

        Raises:
            ApiError: wrong identifier or password, a wrong code too often, a locked account.
            StepUpRequiredError: a step-up was asked and not answered.
        """
        body: dict[str, Any] = {"identifier": identifier, "password": password}
        if device_id:
            body["device_id"] = device_id
        if device_model:
            body["device_model"] = device_model
        outcome = self._post("/login", body)
        tries = 0
        while outcome["status"] != "ok":
            methods = list(outcome.get("methods") or [])
            reply = answer(methods) if answer is not None and tries < attempts else None
            if reply is None:
                raise StepUpRequiredError(methods)
            tries += 1
            verify = {"challenge_id": outcome["challenge_id"]}
            verify |= {
                k: v
                for k, v in (
                    ("code", reply.code),
                    ("totp", reply.totp),
                    ("recovery_code", reply.recovery_code),
                )
                if v
            }
            try:
                outcome = {
                    **self._post("/login/verify", verify),
                    "challenge_id": verify["challenge_id"],
                }
            except ApiError as error:
                if error.status != 401 or tries >= attempts:
                    raise
        return _tokens(outcome["tokens"], outcome.get("account_id"))

    def refresh(self, refresh_token: str) -> Tokens:
        """
        Rotate the refresh token: new tokens (the old refresh token is spent).

        Raises:
            ApiError: the session ended (idle, absolute limit, revoked): sign in again.
        """
        return _tokens(self._post("/token/refresh", {"refresh_token": refresh_token}), None)


def _tokens(data: dict[str, Any], account_id: str | None) -> Tokens:
    return Tokens(
        str(data["access_token"]),
        str(data["refresh_token"]),
        int(data["expires_in"]),
        account_id,
    )
