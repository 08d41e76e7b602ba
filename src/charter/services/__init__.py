"""
Application services built on the gate: each module holds domain logic with no web framework.

- :mod:`charter.services.credentials`: service API keys and interim user tokens.
"""

from __future__ import annotations

from charter.services.credentials import (
    API_KEY_PREFIX,
    USER_TOKEN_PREFIX,
    ApiKey,
    Credentials,
    IssuedApiKey,
    IssuedUserToken,
    UserToken,
)

__all__ = [
    "API_KEY_PREFIX",
    "USER_TOKEN_PREFIX",
    "ApiKey",
    "Credentials",
    "IssuedApiKey",
    "IssuedUserToken",
    "UserToken",
]
