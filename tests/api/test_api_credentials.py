"""The credentials service: format, storage as keyed hashes, revocation and expiry."""

from __future__ import annotations

import re

import pytest
from api_support import Api
from sqlalchemy import select

from charter.errors import AuthError, InputError, NotFoundError
from charter.services.credentials import Credentials
from charter.services.credentials import tables as ct
from charter.store import schema as t
from charter.testing import FakeClock


def test_api_keys_have_the_documented_format_and_are_stored_hashed(api: Api) -> None:
    creds: Credentials = api.credentials
    issued = creds.create_api_key("cloud")
    assert re.fullmatch(r"ck_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", issued.secret)
    assert issued.secret not in repr(issued)
    with api.charter.stores.control().connect() as conn:
        row = conn.execute(select(ct.api_keys).where(ct.api_keys.c.id == issued.key.id)).one()
    secret = issued.secret.split("_", 2)[2]
    assert secret not in row.secret_hash
    assert len(row.secret_hash) == 64
    assert creds.verify_api_key(issued.secret) == "cloud"
    assert [k.id for k in creds.list_api_keys("cloud")] == [issued.key.id]


def test_api_keys_only_for_catalog_services(api: Api) -> None:
    with pytest.raises(InputError):
        api.credentials.create_api_key("no_such_service")


def test_revocation(api: Api) -> None:
    creds = api.credentials
    issued = creds.create_api_key("pay")
    revoked = creds.revoke_api_key(issued.key.id)
    assert revoked.revoked_at is not None
    assert creds.revoke_api_key(issued.key.id).revoked_at == revoked.revoked_at
    with pytest.raises(AuthError):
        creds.verify_api_key(issued.secret)
    with pytest.raises(NotFoundError):
        creds.revoke_api_key("0" * 16)


def test_user_token_lifetime(api: Api, clock: FakeClock) -> None:
    sid = api.subject(api.key("cloud"))
    creds = api.credentials
    issued = creds.issue_user_token(sid)
    assert re.fullmatch(r"ut_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", issued.secret)
    assert issued.token.expires_at - issued.token.created_at == 24 * 3600 * 1_000_000
    assert creds.verify_user_token(issued.secret) == sid
    with pytest.raises(AuthError):
        creds.verify_api_key(issued.secret)
    clock.advance(seconds=24 * 3600 - 1)
    assert creds.verify_user_token(issued.secret) == sid
    clock.advance(seconds=1)
    with pytest.raises(AuthError):
        creds.verify_user_token(issued.secret)
    assert [x.id for x in creds.list_user_tokens(sid)] == [issued.token.id]
    with pytest.raises(InputError):
        creds.issue_user_token(sid, ttl_seconds=0)


def test_credential_actions_are_audited(api: Api) -> None:
    issued = api.credentials.create_api_key("cloud")
    api.credentials.revoke_api_key(issued.key.id)
    with api.charter.stores.control().connect() as conn:
        actions = [
            r.action for r in conn.execute(select(t.audit_log.c.action, t.audit_log.c.detail))
        ]
        details = " ".join(r.detail for r in conn.execute(select(t.audit_log.c.detail)))
    assert "api_key_create" in actions
    assert "api_key_revoke" in actions
    assert issued.secret.split("_", 2)[2] not in details
