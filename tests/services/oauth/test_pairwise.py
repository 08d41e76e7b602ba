"""T11 (pairwise subjects, keys): UnionIDs differ across sectors, agree within one, survive
restarts and signing-key rotation; the JWKS publishes old keys until they are retired."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from charter.app import Charter
from charter.config import Settings
from charter.crypto import Keyring
from charter.errors import InputError, NotFoundError
from charter.services.oauth import KeyStore, pairwise_sub
from charter.services.oauth.clients import ClientRegistry


@pytest.mark.promise("account.oauth_union_id")
def test_thousand_users_five_sectors_never_collide() -> None:
    keyring = Keyring.generate()
    sectors = [f"app{i}.example.com" for i in range(5)]
    users = [f"s_{secrets.token_hex(16)}" for _ in range(1000)]
    seen: dict[str, tuple[str, str]] = {}
    equal_across = 0
    for user in users:
        subs = {pairwise_sub(keyring, sector, user) for sector in sectors}
        equal_across += 5 - len(subs)
        for sector in sectors:
            sub = pairwise_sub(keyring, sector, user)
            assert seen.setdefault(sub, (user, sector)) == (user, sector)
            assert user not in sub
    print(f"pairwise_equal_across_sectors: {equal_across} pairs")
    assert equal_across == 0
    assert len(seen) == 5000


def test_stable_within_a_sector_and_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    Keyring.create(path)
    before = pairwise_sub(Keyring.load(path), "band.example.com", "s_" + "1" * 32)
    after = pairwise_sub(Keyring.load(path), "band.example.com", "s_" + "1" * 32)
    assert before == after
    assert pairwise_sub(Keyring.load(path), "lamp.example.com", "s_" + "1" * 32) != before


def test_key_rotation_keeps_old_keys_published_until_retired(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "oidc" / "jwks.json")
    first = store.signing_kid
    second = store.rotate()
    assert store.signing_kid == second
    assert {k["kid"] for k in store.public_jwks()["keys"]} == {first, second}
    assert all("d" not in k for k in store.public_jwks()["keys"])
    assert (tmp_path / "oidc" / "jwks.json").stat().st_mode & 0o777 == 0o600
    reloaded = KeyStore(tmp_path / "oidc" / "jwks.json")
    assert reloaded.signing_kid == second
    with pytest.raises(NotFoundError):
        store.retire(second)
    store.retire(first)
    assert [k["kid"] for k in store.public_jwks()["keys"]] == [second]


def test_client_registration_rules(tmp_path: Path) -> None:
    Charter.init(tmp_path / "d")
    charter = Charter.open(Settings(data_dir=tmp_path / "d"))
    registry = ClientRegistry(charter.stores.control, charter.keyring, charter.clock)
    for bad in (["http://app.example.com/cb"], ["https://app.example.com/cb#x"], ["not a url"], []):
        with pytest.raises(InputError):
            registry.add("App", bad)
    with pytest.raises(InputError):
        registry.add("App", ["https://a.example.com/cb", "https://b.example.com/cb"])
    issued = registry.add(
        "App",
        ["https://a.example.com/cb", "https://b.example.com/cb"],
        sector="example.com",
        public=False,
    )
    assert issued.secret and issued.client.check_client_secret(issued.secret)
    assert not issued.client.check_client_secret(issued.secret + "x")
    assert issued.client.sector == "example.com"
    charter.close()
