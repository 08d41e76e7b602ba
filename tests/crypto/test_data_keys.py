"""T4/T13: wrapped data keys — binding, tamper detection, rotation, rewrap, retirement."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from charter.crypto import (
    WRAPPED_KEY_BYTES,
    FieldCipher,
    Keyring,
    new_data_key,
    record_aad,
    rewrap_data_key,
    unwrap_data_key,
    wrap_data_key,
    wrapped_version,
)
from charter.errors import InputError, IntegrityError

WHO = {"subject_id": "subj-1", "region": "eu"}


def test_new_data_keys_are_32_random_bytes() -> None:
    keys = {new_data_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert {len(k) for k in keys} == {32}


def test_wrap_unwrap_round_trip(memory_keyring: Keyring) -> None:
    dek = new_data_key()
    wrapped = wrap_data_key(memory_keyring, dek, **WHO)
    assert len(wrapped) == WRAPPED_KEY_BYTES == 66
    assert dek not in wrapped
    assert wrapped_version(wrapped) == 1
    assert unwrap_data_key(memory_keyring, wrapped, **WHO) == dek


@pytest.mark.parametrize(
    "other", [{"subject_id": "subj-2"}, {"region": "cn"}, {"subject_id": "subj-1x"}]
)
def test_wrapped_key_moved_to_another_subject_or_region_fails(
    memory_keyring: Keyring, other: dict[str, str]
) -> None:
    wrapped = wrap_data_key(memory_keyring, new_data_key(), **WHO)
    with pytest.raises(IntegrityError):
        unwrap_data_key(memory_keyring, wrapped, **{**WHO, **other})


def test_every_bit_flip_of_a_wrapped_key_fails(memory_keyring: Keyring) -> None:
    wrapped = bytearray(wrap_data_key(memory_keyring, new_data_key(), **WHO))
    for bit in range(len(wrapped) * 8):
        wrapped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(IntegrityError):
            unwrap_data_key(memory_keyring, bytes(wrapped), **WHO)
        wrapped[bit // 8] ^= 1 << (bit % 8)


def test_wrapped_key_from_another_keyring_fails(memory_keyring: Keyring) -> None:
    wrapped = wrap_data_key(Keyring.generate(), new_data_key(), **WHO)
    with pytest.raises(IntegrityError):
        unwrap_data_key(memory_keyring, wrapped, **WHO)


@pytest.mark.parametrize(
    "bad", [b"", bytes(65), bytes(67), b"\x02\x01" + bytes(64), b"\x01\x02" + bytes(64)]
)
def test_malformed_wrapped_keys_rejected(memory_keyring: Keyring, bad: bytes) -> None:
    with pytest.raises(IntegrityError):
        wrapped_version(bad)
    with pytest.raises(IntegrityError):
        unwrap_data_key(memory_keyring, bad, **WHO)


def test_wrap_checks_its_inputs(memory_keyring: Keyring) -> None:
    with pytest.raises(InputError):
        wrap_data_key(memory_keyring, bytes(16), **WHO)
    with pytest.raises(InputError):
        wrap_data_key(memory_keyring, new_data_key(), subject_id="", region="eu")
    with pytest.raises(InputError):
        wrap_data_key(memory_keyring, new_data_key(), subject_id="s", region="")


def test_rotation_rewrap_and_retirement(file_keyring: Keyring, keyring_path: Path) -> None:
    """T13: 100% readable after rotation; 0 DEKs left on v1 after rewrap; v1 dead after retire."""
    keyring = file_keyring
    subjects = [f"subj-{i}" for i in range(200)]
    deks = {s: new_data_key() for s in subjects}
    wrapped = {s: wrap_data_key(keyring, deks[s], subject_id=s, region="eu") for s in subjects}
    aad = {
        s: record_aad(subject_id=s, service="cloud", data_type="note", record_id="1")
        for s in subjects
    }
    records = {s: FieldCipher(deks[s]).encrypt(s.encode(), aad=aad[s]) for s in subjects}
    old_copies = dict(wrapped)

    assert keyring.rotate() == 2
    assert keyring.current_version == 2
    assert keyring.versions == (1, 2)
    # 100% of old records readable after rotation
    for s in subjects:
        dek = unwrap_data_key(keyring, wrapped[s], subject_id=s, region="eu")
        assert FieldCipher(dek).decrypt(records[s], aad=aad[s]) == s.encode()
    # new wraps use the new KEK
    assert wrapped_version(wrap_data_key(keyring, new_data_key(), **WHO)) == 2

    # rewrap job: everything off version 1
    for s in subjects:
        if wrapped_version(wrapped[s]) != keyring.current_version:
            wrapped[s] = rewrap_data_key(keyring, wrapped[s], subject_id=s, region="eu")
    assert sum(wrapped_version(w) == 1 for w in wrapped.values()) == 0

    # a fresh process sees the same keyring; retire v1 there
    reopened = Keyring.load(keyring_path)
    reopened.retire(1)
    assert reopened.versions == (2,)
    assert reopened.retired_versions == (1,)
    after = Keyring.load(keyring_path)
    for s in subjects:
        dek = unwrap_data_key(after, wrapped[s], subject_id=s, region="eu")
        assert dek == deks[s]
        assert FieldCipher(dek).decrypt(records[s], aad=aad[s]) == s.encode()
        with pytest.raises(IntegrityError) as info:
            unwrap_data_key(after, old_copies[s], subject_id=s, region="eu")
        assert info.value.code == "kek_destroyed"


def test_rewrap_is_idempotent_on_the_current_version(memory_keyring: Keyring) -> None:
    wrapped = wrap_data_key(memory_keyring, new_data_key(), **WHO)
    assert rewrap_data_key(memory_keyring, wrapped, **WHO) == wrapped
    tampered = bytearray(wrapped)
    tampered[-1] ^= 1
    with pytest.raises(IntegrityError):
        rewrap_data_key(memory_keyring, bytes(tampered), **WHO)


def test_rewrap_binds_to_the_same_subject(memory_keyring: Keyring) -> None:
    wrapped = wrap_data_key(memory_keyring, new_data_key(), **WHO)
    memory_keyring.rotate()
    with pytest.raises(IntegrityError):
        rewrap_data_key(memory_keyring, wrapped, subject_id="someone-else", region="eu")
    again = rewrap_data_key(memory_keyring, wrapped, **WHO)
    with pytest.raises(IntegrityError):
        unwrap_data_key(memory_keyring, again, subject_id="someone-else", region="eu")


def test_unknown_kek_version_rejected(memory_keyring: Keyring) -> None:
    wrapped = bytearray(wrap_data_key(memory_keyring, new_data_key(), **WHO))
    wrapped[2:6] = (7).to_bytes(4, "big")
    with pytest.raises(IntegrityError) as info:
        unwrap_data_key(memory_keyring, bytes(wrapped), **WHO)
    assert info.value.code == "kek_unknown"


def test_rotation_under_concurrent_writers(file_keyring: Keyring) -> None:
    """Wrap/unwrap from 8 threads while the KEK rotates 10 times: 0 failures."""
    keyring = file_keyring
    stop = threading.Event()
    barrier = threading.Barrier(9)

    def writer(n: int) -> list[tuple[str, bytes, bytes]]:
        barrier.wait()
        done: list[tuple[str, bytes, bytes]] = []
        i = 0
        while not stop.is_set() or i < 50:
            subject = f"w{n}-{i}"
            dek = new_data_key()
            wrapped = wrap_data_key(keyring, dek, subject_id=subject, region="eu")
            assert unwrap_data_key(keyring, wrapped, subject_id=subject, region="eu") == dek
            done.append((subject, dek, wrapped))
            i += 1
        return done

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(writer, n) for n in range(8)]
        barrier.wait()
        for _ in range(10):
            keyring.rotate()
        stop.set()
        written = [item for f in futures for item in f.result()]
    assert keyring.current_version == 11
    versions = {wrapped_version(w) for _, _, w in written}
    assert len(versions) > 1
    for subject, dek, wrapped in written:
        assert unwrap_data_key(keyring, wrapped, subject_id=subject, region="eu") == dek
