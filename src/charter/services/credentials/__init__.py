"""
Service credentials (API keys, ``ck_...``) and interim user tokens (``ut_...``): issued,
verified by keyed hash, revoked, audited. See ``docs/api.md``.
"""

from charter.services.credentials.service import (
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
