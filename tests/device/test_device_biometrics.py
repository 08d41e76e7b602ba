"""Biometric rules with the device's fake clock and its boot counter (simulated sensor)."""

from __future__ import annotations

import pytest

from charter.device import Device, Kind
from charter.device.biometrics import APP_CHECK, features_of
from charter.device.db import open_db
from charter.device.hardware import HARDWARE
from charter.errors import AuthError, RefusedError
from charter.testing import FakeClock

PASSWORD = "device-pass-1"
FINGER, FACE = b"raw-fingerprint-sample", b"raw-face-image"


@pytest.mark.promise("ai_technology.password_for_biometric_changes")
def test_settings_and_face_unlock_on_off_need_the_password(phone: Device) -> None:
    bio = phone.biometrics
    for call in (
        lambda: bio.enroll(Kind.FACE, FACE, "wrong"),
        lambda: bio.set_face_unlock(True, "wrong"),
        lambda: bio.enrolled("wrong"),
        lambda: bio.delete(Kind.FACE, "wrong"),
    ):
        with pytest.raises(AuthError) as caught:
            call()
        assert caught.value.code == "password_required"
    assert bio.enrolled(PASSWORD) == []
    bio.enroll(Kind.FACE, FACE, PASSWORD)
    bio.set_face_unlock(False, PASSWORD)
    assert not bio.face_on


@pytest.mark.promise("ai_technology.fingerprint_refused")
def test_fingerprint_refused_after_boot_72_hours_and_5_failures(
    phone: Device, device_clock: FakeClock
) -> None:
    bio = phone.biometrics
    bio.enroll(Kind.FINGERPRINT, FINGER, PASSWORD)
    with pytest.raises(RefusedError) as caught:
        bio.unlock(Kind.FINGERPRINT, FINGER)
    assert caught.value.code == "password_after_boot"
    bio.unlock_with_password(PASSWORD)
    assert bio.unlock(Kind.FINGERPRINT, FINGER)
    phone.reboot()
    with pytest.raises(RefusedError, match="password") as caught:
        bio.unlock(Kind.FINGERPRINT, FINGER)
    assert caught.value.code == "password_after_boot"
    bio.unlock_with_password(PASSWORD)
    device_clock.advance(seconds=72 * 3600)
    assert bio.unlock(Kind.FINGERPRINT, FINGER)  # exactly 72 h: still allowed
    device_clock.advance(seconds=1)
    with pytest.raises(RefusedError) as caught:
        bio.unlock(Kind.FINGERPRINT, FINGER)
    assert caught.value.code == "password_after_72h"
    bio.unlock_with_password(PASSWORD)
    for _ in range(5):
        assert not bio.unlock(Kind.FINGERPRINT, b"someone else")
    with pytest.raises(RefusedError) as caught:
        bio.unlock(Kind.FINGERPRINT, FINGER)
    assert caught.value.code == "too_many_failures"
    bio.unlock_with_password(PASSWORD)
    assert bio.unlock(Kind.FINGERPRINT, FINGER)


@pytest.mark.promise("ai_technology.face_off_keeps_features")
def test_face_unlock_off_keeps_the_features_until_deleted_by_hand(phone: Device) -> None:
    bio = phone.biometrics
    bio.enroll(Kind.FACE, FACE, PASSWORD)
    assert bio.unlock(Kind.FACE, FACE)
    bio.set_face_unlock(False, PASSWORD)
    with pytest.raises(RefusedError):
        bio.unlock(Kind.FACE, FACE)
    assert bio.enrolled(PASSWORD) == [Kind.FACE]
    bio.set_face_unlock(True, PASSWORD)
    assert bio.unlock(Kind.FACE, FACE)  # the kept features work again
    bio.delete(Kind.FACE, PASSWORD)
    assert bio.enrolled(PASSWORD) == []


@pytest.mark.promise("ai_technology.factory_reset_wipes_biometrics")
def test_factory_reset_deletes_every_feature(phone: Device) -> None:
    phone.biometrics.enroll(Kind.FACE, FACE, PASSWORD)
    phone.biometrics.enroll(Kind.FINGERPRINT, FINGER, PASSWORD)
    folder = phone.data_dir
    with pytest.raises(AuthError) as refused:  # a device with no server asks its password
        phone.factory_reset("not the password")
    assert refused.value.code == "wrong_credential"
    assert len(phone.biometrics.enrolled(PASSWORD)) == 2  # nothing was wiped
    phone.factory_reset(PASSWORD)
    left = [p.name for p in folder.rglob("*") if p.is_file()]
    assert left == [HARDWARE]  # the simulated hardware's identifiers, nothing of the person
    fresh = Device.create(folder, password=PASSWORD)
    try:
        assert fresh.biometrics.enrolled(PASSWORD) == []
    finally:
        fresh.close()


@pytest.mark.promise("ai_technology.raw_biometrics_not_kept")
def test_only_features_are_kept_never_the_raw_sample(phone: Device) -> None:
    phone.biometrics.enroll(Kind.FINGERPRINT, FINGER, PASSWORD)
    phone.biometrics.enroll(Kind.FACE, FACE, PASSWORD)
    phone.close()
    keys = phone.keys
    for f in phone.data_dir.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert FINGER not in data and FACE not in data
    tee = open_db(phone.data_dir / "tee.db", keys.get("tee") or b"")
    kept = [bytes(r[0]) for r in tee.execute("select features from biometrics")]
    tee.close()
    assert len(kept) == 2 and all(FINGER not in k and FACE not in k for k in kept)
    owner = open_db(phone.data_dir / "owner.db", keys.get("owner") or b"")
    in_owner = owner.execute("select count(*) from biometrics").fetchone()[0]
    owner.close()
    assert in_owner == 0  # never in a space (sync and backup read spaces only)


@pytest.mark.promise("ai_technology.fingerprint_in_tee")
def test_apps_get_only_the_result_of_a_check(phone: Device) -> None:
    bio = phone.biometrics
    bio.enroll(Kind.FINGERPRINT, FINGER, PASSWORD)
    bio.unlock_with_password(PASSWORD)
    assert bio.check_for_app("com.bank.app", Kind.FINGERPRINT, FINGER) is True
    assert bio.check_for_app("com.bank.app", Kind.FINGERPRINT, b"other") is False
    phone.reboot()
    assert bio.check_for_app("com.bank.app", Kind.FINGERPRINT, FINGER) is False


@pytest.mark.promise("ai_technology.biometrics_single_purpose")
def test_facial_features_serve_unlocking_only(phone: Device) -> None:
    bio = phone.biometrics
    bio.enroll(Kind.FACE, FACE, PASSWORD)
    assert bio.unlock(Kind.FACE, FACE) is True  # unlocking the device
    with pytest.raises(RefusedError) as app_check:
        bio.check_for_app("com.bank.app", Kind.FACE, FACE)
    assert app_check.value.code == "face_unlock_only"
    with pytest.raises(RefusedError) as other:
        bio.unlock(Kind.FACE, FACE, purpose=APP_CHECK)
    assert other.value.code == "face_unlock_only"
    # Nothing the device offers hands the features out: no public name returns bytes, and
    # the features are in no space an app, sync or backup reads.
    features = features_of(Kind.FACE, FACE)
    public = [n for n in dir(bio) if not n.startswith("_")]
    for name in public:
        value = getattr(bio, name)
        assert not isinstance(value, bytes | bytearray), name
    phone.close()
    assert not any(
        features in f.read_bytes() for f in phone.data_dir.rglob("*") if f.is_file()
    )  # kept encrypted in tee.db only
