"""
The account service's catalog promises (its ``service`` rules), each with the code that keeps
it; the tests that prove them carry ``@pytest.mark.promise("<rule id>")``.
"""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "account.country_sets_storage": "Registration: the market chosen at sign-up is the "
    "subject's market, and the catalog maps it to the region whose database holds the records",
    "account.login_environment_check": "EnvironmentCheck: new device, new network or bot-like "
    "signals step the sign-in up with a one-time code",
    "account.two_step_verification": "SignIn and TwoStep: with 2-step verification on, a risky "
    "sign-in waits for approval from a signed-in device (or a TOTP code)",
    "account.human_check_signals_discarded": "EnvironmentCheck: human-or-bot signals are "
    "scored in memory and never stored or logged",
    "account.oauth_union_id": "the OpenID provider: a pairwise sub per sector, and only sub, "
    "nickname and picture released",
    "account.help_center_actions": "HelpCentre: password reset and unfreezing with a code sent "
    "to the identifier",
    "account.country_change_by_request": "the API offers no self-service country change; "
    "moving an account is a request to Privacy Support",
    "account.deletion_effect": "rights.erasure.delete_account: crypto-shredding, then every "
    "registered row and file of the account (verify-erasure proves it)",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
