"""T14 (OAuth part): a code or a refresh token redeemed twice at the same instant succeeds once."""

from __future__ import annotations

import threading
from typing import Any

from test_oauth_flow import REDIRECT, auth_params, code_from, consent, pkce

from charter.services.oauth import OAuthProvider
from support.accounts import cookie_of


def race(fn: Any) -> list[int]:
    barrier = threading.Barrier(2)
    results: list[int] = []

    def go() -> None:
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_double_redemption_of_codes_and_refresh_tokens(
    client: Any, alice: Any, provider: OAuthProvider
) -> None:
    client_id = provider.clients.add("Race", [REDIRECT]).client.client_id
    anomalies = trials = 0
    for _ in range(25):
        verifier, challenge = pkce()
        code = code_from(
            consent(client, cookie_of(client, alice), auth_params(client_id, challenge))
        )
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        }
        responses: list[Any] = []

        def redeem(data: dict[str, str] = data, responses: list[Any] = responses) -> int:
            response = client.post("/oauth/token", data=data)
            responses.append(response)
            return int(response.status_code)

        statuses = race(redeem)
        anomalies += statuses.count(200) != 1
        trials += 1
        # the loser's redemption revoked the winner's tokens (code reuse), so race refreshes on a fresh grant
        verifier, challenge = pkce()
        code = code_from(
            consent(client, cookie_of(client, alice), auth_params(client_id, challenge))
        )
        refresh = client.post(
            "/oauth/token", data={**data, "code": code, "code_verifier": verifier}
        ).json()["refresh_token"]
        body = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id}
        statuses = race(lambda body=body: client.post("/oauth/token", data=body).status_code)
        anomalies += statuses.count(200) != 1
        trials += 1
    print(f"oauth_race_trials: {trials}, anomalies: {anomalies}")
    assert anomalies == 0
