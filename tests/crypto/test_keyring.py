"""The keyring: file safety, formats, rotation persistence, secrecy of key material."""

from __future__ import annotations

import base64
import copy
import json
import os
import pickle
import stat
from pathlib import Path

import pytest

from charter.crypto import ENV_VAR, Keyring
from charter.errors import ConfigError, InputError, IntegrityError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _secrets(keyring: Keyring) -> list[bytes]:
    return [*(keyring.kek(v) for v in keyring.versions), keyring.hmac_key, keyring.pepper]


def _renderings(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        repr(secret),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode().rstrip("="),
    ]


def _assert_no_secret_in(text: str, keyring: Keyring) -> None:
    for secret in _secrets(keyring):
        for rendering in _renderings(secret):
            assert rendering not in text


def test_create_makes_a_0600_file_in_a_0700_directory(keyring_path: Path) -> None:
    keyring = Keyring.create(keyring_path)
    assert _mode(keyring_path) == 0o600
    assert _mode(keyring_path.parent) == 0o700
    assert keyring.current_version == 1
    assert keyring.versions == (1,)
    assert keyring.path == keyring_path
    assert list(keyring_path.parent.iterdir()) == [keyring_path]  # no temp files left
    doc = json.loads(keyring_path.read_text())
    assert set(doc) == {"charter_keyring", "current", "keks", "hmac_key", "pepper"}


def test_created_secrets_are_distinct_32_byte_keys(file_keyring: Keyring) -> None:
    secrets = _secrets(file_keyring)
    assert {len(s) for s in secrets} == {32}
    assert len(set(secrets)) == len(secrets)


def test_create_refuses_to_overwrite(keyring_path: Path) -> None:
    Keyring.create(keyring_path)
    before = keyring_path.read_bytes()
    with pytest.raises(ConfigError):
        Keyring.create(keyring_path)
    assert keyring_path.read_bytes() == before


def test_create_is_0600_whatever_the_umask(keyring_path: Path) -> None:
    old = os.umask(0)
    try:
        Keyring.create(keyring_path)
    finally:
        os.umask(old)
    assert _mode(keyring_path) == 0o600


def test_load_round_trips(file_keyring: Keyring, keyring_path: Path) -> None:
    loaded = Keyring.load(keyring_path)
    assert _secrets(loaded) == _secrets(file_keyring)
    assert loaded.current_version == 1


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602, 0o620])
def test_load_refuses_group_or_other_access(keyring_path: Path, mode: int) -> None:
    Keyring.create(keyring_path)
    keyring_path.chmod(mode)
    with pytest.raises(ConfigError) as info:
        Keyring.load(keyring_path)
    assert "chmod 600" in info.value.message
    assert str(keyring_path) in info.value.message


def test_load_accepts_owner_read_only(keyring_path: Path) -> None:
    Keyring.create(keyring_path)
    keyring_path.chmod(0o400)
    assert Keyring.load(keyring_path).current_version == 1


def test_load_of_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Keyring.load(tmp_path / "nope.json")
    assert "charter init" in info.value.message


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _mutations(doc: dict[str, object]) -> list[str]:
    good_key = doc["hmac_key"]
    assert isinstance(good_key, str)
    bad: list[dict[str, object]] = [
        {**doc, "charter_keyring": 2},
        {**doc, "current": 2},
        {**doc, "current": "1"},
        {**doc, "current": True},
        {**doc, "keks": {}},
        {**doc, "keks": {"1": None}},
        {**doc, "keks": {"01": good_key}, "current": 1},
        {**doc, "keks": {"0": good_key}, "current": 0},
        {**doc, "keks": {"1": good_key[:-2]}},
        {**doc, "keks": {"1": good_key + "AAAA"}},
        {**doc, "keks": {"1": good_key[:-1] + "!"}},
        {**doc, "keks": {"1": 12}},
        {**doc, "hmac_key": None},
        {**doc, "pepper": "%%%"},
        {**doc, "extra": good_key},
        {k: v for k, v in doc.items() if k != "pepper"},
    ]
    texts = [json.dumps(d) for d in bad]
    texts += [json.dumps(doc)[:-5], "", "[]", "null", json.dumps(doc).replace("{", "[", 1)]
    return texts


def test_malformed_files_are_refused_naming_the_file_not_the_keys(keyring_path: Path) -> None:
    keyring = Keyring.create(keyring_path)
    doc = json.loads(keyring_path.read_text())
    for text in _mutations(doc):
        _write_private(keyring_path, text)
        with pytest.raises(ConfigError) as info:
            Keyring.load(keyring_path)
        message = str(info.value)
        assert str(keyring_path) in message
        _assert_no_secret_in(message, keyring)
        assert info.value.__cause__ is None


def test_non_utf8_file_refused(keyring_path: Path) -> None:
    keyring_path.parent.mkdir(parents=True)
    fd = os.open(keyring_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"\xff\xfe{")
    os.close(fd)
    with pytest.raises(ConfigError):
        Keyring.load(keyring_path)


def test_repr_and_str_show_no_key_material(file_keyring: Keyring) -> None:
    file_keyring.rotate()
    for text in (
        repr(file_keyring),
        str(file_keyring),
        f"{file_keyring}",
        f"{file_keyring!r}",
        str([file_keyring]),
    ):
        _assert_no_secret_in(text, file_keyring)
        assert "current_version=2" in text


def test_keyring_cannot_be_pickled_or_copied(memory_keyring: Keyring) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(memory_keyring)
    with pytest.raises(TypeError):
        copy.copy(memory_keyring)
    with pytest.raises(TypeError):
        copy.deepcopy(memory_keyring)


def test_rotate_persists_atomically(file_keyring: Keyring, keyring_path: Path) -> None:
    old_kek = file_keyring.kek(1)
    assert file_keyring.rotate() == 2
    assert file_keyring.rotate() == 3
    assert _mode(keyring_path) == 0o600
    assert sorted(p.name for p in keyring_path.parent.iterdir()) == [
        "keyring.json",
        "keyring.json.lock",
    ]
    loaded = Keyring.load(keyring_path)
    assert loaded.current_version == 3
    assert loaded.versions == (1, 2, 3)
    assert loaded.kek(1) == old_kek
    assert loaded.kek(3) == file_keyring.kek(3)
    assert len({loaded.kek(v) for v in loaded.versions}) == 3
    assert loaded.hmac_key == file_keyring.hmac_key
    assert loaded.pepper == file_keyring.pepper


def test_retire_destroys_the_key_on_disk(file_keyring: Keyring, keyring_path: Path) -> None:
    old_kek = file_keyring.kek(1)
    file_keyring.rotate()
    file_keyring.retire(1)
    assert file_keyring.versions == (2,)
    on_disk = keyring_path.read_text()
    for rendering in _renderings(old_kek):
        assert rendering not in on_disk
    loaded = Keyring.load(keyring_path)
    with pytest.raises(IntegrityError) as info:
        loaded.kek(1)
    assert info.value.code == "kek_destroyed"
    file_keyring.retire(1)  # idempotent
    assert file_keyring.rotate() == 3  # version numbers are never reused


def test_retire_refuses_current_and_unknown_versions(file_keyring: Keyring) -> None:
    with pytest.raises(InputError) as info:
        file_keyring.retire(1)
    assert info.value.code == "kek_current"
    with pytest.raises(InputError) as info:
        file_keyring.retire(9)
    assert info.value.code == "kek_unknown"
    assert file_keyring.versions == (1,)


def test_unknown_kek_version(file_keyring: Keyring) -> None:
    with pytest.raises(IntegrityError) as info:
        file_keyring.kek(2)
    assert info.value.code == "kek_unknown"


def test_stale_instance_cannot_clobber_a_rotation(
    file_keyring: Keyring, keyring_path: Path
) -> None:
    other = Keyring.load(keyring_path)
    file_keyring.rotate()
    with pytest.raises(ConfigError):
        other.rotate()
    assert Keyring.load(keyring_path).kek(2) == file_keyring.kek(2)  # nothing lost
    other.reload()
    assert other.rotate() == 3
    assert Keyring.load(keyring_path).versions == (1, 2, 3)


def test_env_keyring_round_trips(file_keyring: Keyring) -> None:
    file_keyring.rotate()
    value = file_keyring.export_env_value()
    for variant in (value, value + "=" * (-len(value) % 4), f"  {value}\n"):
        loaded = Keyring.from_env(variant)
        assert _secrets(loaded) == _secrets(file_keyring)
        assert loaded.current_version == 2
        assert loaded.path is None
        assert "env:CHARTER_KEYRING" in repr(loaded)


def test_env_keyring_is_the_file_json_base64url(file_keyring: Keyring, keyring_path: Path) -> None:
    value = base64.urlsafe_b64encode(keyring_path.read_bytes()).decode()
    assert _secrets(Keyring.from_env(value)) == _secrets(file_keyring)


@pytest.mark.parametrize("value", ["", "   ", "not base64!", "e30", "W10", "aGVsbG8"])
def test_env_keyring_garbage_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Keyring.from_env(value)
    assert ENV_VAR in info.value.message


def test_env_keyring_cannot_rotate(file_keyring: Keyring) -> None:
    loaded = Keyring.from_env(file_keyring.export_env_value())
    with pytest.raises(ConfigError):
        loaded.rotate()
    assert loaded.current_version == 1


def test_load_default_prefers_the_environment(
    file_keyring: Keyring, keyring_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = file_keyring.export_env_value()
    empty_dir = tmp_path / "elsewhere"
    from_env = Keyring.load_default(empty_dir, environ={ENV_VAR: value})
    assert _secrets(from_env) == _secrets(file_keyring)

    monkeypatch.setenv(ENV_VAR, value)
    assert _secrets(Keyring.load_default(empty_dir)) == _secrets(file_keyring)

    monkeypatch.setenv(ENV_VAR, "")
    from_file = Keyring.load_default(keyring_path.parent)
    assert from_file.path == keyring_path
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(ConfigError):
        Keyring.load_default(empty_dir)


def test_memory_keyring_rotates_in_memory(memory_keyring: Keyring) -> None:
    assert memory_keyring.rotate() == 2
    assert memory_keyring.path is None
    with pytest.raises(ConfigError):
        memory_keyring.reload()
