"""
Where the HTTP layer finds the account service and the OAuth provider: attributes of the
FastAPI app's state, made on first use from the app's :class:`~charter.app.Charter` (or set
beforehand, e.g. by tests with another sender or hashing profile).

- ``CHARTER_ISSUER``: the provider's public base URL (default: the request's base URL).
- Verification codes go to ``<data dir>/outbox/codes.jsonl`` (:class:`~.senders.FileSender`).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from charter.services.account.senders import FileSender
from charter.services.account.service import AccountService
from charter.services.oauth.provider import OAuthProvider

_LOCK = threading.Lock()


def account_service(state: Any) -> AccountService:
    """The app's account service."""
    service = getattr(state, "accounts", None)
    if service is None:
        with _LOCK:
            service = getattr(state, "accounts", None)
            if service is None:
                charter = state.charter
                service = AccountService(charter, sender=FileSender(charter.settings.data_dir / "outbox" / "codes.jsonl"))
                state.accounts = service
    return service


def oauth_provider(state: Any, base_url: str) -> OAuthProvider:
    """The app's OAuth provider."""
    provider = getattr(state, "oauth", None)
    if provider is None:
        with _LOCK:
            provider = getattr(state, "oauth", None)
            if provider is None:
                provider = OAuthProvider(state.charter, issuer=os.environ.get("CHARTER_ISSUER") or base_url)
                state.oauth = provider
    return provider
