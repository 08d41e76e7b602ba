"""The account service's promises that no other test proves: where the chosen country puts
the account, the help centre's self-service actions, and country changes only on request."""

from __future__ import annotations

from typing import Any

import pytest

from charter.errors import AuthError
from charter.services.account import AccountService, MemorySender
from support.accounts import PASSWORD, make_account


@pytest.mark.promise("account.country_sets_storage")
def test_the_country_chosen_at_sign_up_decides_where_the_account_is_stored(
    accounts: AccountService, sender: MemorySender
) -> None:
    gate = accounts.gate
    for email, country, region in (
        ("ind@example.org", "in", "india"),
        ("deu@example.org", "de", "eu"),
        ("gbr@example.org", "gb", "uk"),
    ):
        account = make_account(accounts, sender, email, country=country)
        subject = gate.subject(account.id)
        assert subject.region == region and subject.market == country
        assert {r.data_type for r in accounts.records.read(account.id)} >= {"country"}


@pytest.mark.promise("account.help_center_actions")
def test_the_help_centre_resets_a_password_and_unfreezes_with_a_code(
    accounts: AccountService, sender: MemorySender
) -> None:
    account = make_account(accounts, sender, "help@example.org")
    challenge = accounts.request_help("help@example.org", "reset")
    accounts.reset_password(
        challenge, sender.last_code("help@example.org"), "a new long passphrase 7"
    )
    with pytest.raises(AuthError):
        accounts.login("help@example.org", PASSWORD)
    accounts.freeze(account.id, actor="admin")
    challenge = accounts.request_help("help@example.org", "unfreeze")
    accounts.unfreeze(challenge, sender.last_code("help@example.org"), "a new long passphrase 7")
    assert accounts.status(account.id)["status"] == "active"
    sent = len(sender.sent)
    assert accounts.request_help("nobody@example.org", "reset")  # same answer, no code sent
    assert len(sender.sent) == sent


@pytest.mark.promise("account.country_change_by_request")
def test_the_country_cannot_be_changed_by_self_service(
    client: Any, accounts: AccountService, sender: MemorySender
) -> None:
    account = make_account(accounts, sender, "move@example.org", country="de")
    headers = {"Authorization": f"Bearer {account.tokens.access_token}"}
    moved = client.patch("/v1/account/me/profile", json={"country": "fr"}, headers=headers)
    assert moved.status_code == 422
    assert accounts.gate.subject(account.id).market == "de"
    assert not any(
        route.path.endswith("/country") for route in client.app.routes if hasattr(route, "path")
    )
