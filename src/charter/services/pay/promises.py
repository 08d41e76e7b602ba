"""Mi Pay's catalog promises (its ``service`` rules) and the code that keeps each; the tests
that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "pay.pseudonymized_card_numbers": "Pay._charge writes payer and payee cards as keyed "
    "pseudonyms (vault.pseudonym: HMAC-SHA-256 under the deployment's key) and refuses a "
    "record or remark whose text holds a card number (vault.holds_card_number)",
    "pay.unbind": "Vault.unbind deletes the card's number and expiry records through the gate "
    "and its token row",
    "pay.deregister": "Pay.deregister deletes every Mi Pay record of the person (UPI ID, "
    "cards, transactions, consumer numbers) through the gate, and the vault's rows",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
