"""
Face and fingerprint unlock with a simulated sensor and the real rules:

- only features are kept (a one-way transform of the sample, made inside the "TEE" object);
  the raw sample is never stored, uploaded or backed up, and apps get only the result of a
  check (:meth:`Biometrics.check_for_app`);
- fingerprint is refused right after a (re)boot until the password unlocks the device, when
  the password has not been entered for 72 hours, and after 5 failed attempts in a row;
- entering the biometric settings and turning face unlock on or off needs the password;
- turning face unlock off keeps the features until the person deletes them by hand;
- a factory reset deletes every feature.

The features live in their own encrypted database (``tee.db``, its own key), apart from the
spaces' data that sync and backup read.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from charter.clock import Clock
from charter.device.db import Connection, open_db, set_setting, setting
from charter.errors import AuthError, InputError, RefusedError

HOUR_US = 3_600_000_000
MAX_HOURS_WITHOUT_PASSWORD = 72
MAX_FAILURES = 5

PasswordCheck = Callable[[str], bool]
"""Whether a password is the device's."""


class Kind(StrEnum):
    """A biometric."""

    FACE = "face"
    FINGERPRINT = "fingerprint"


def features_of(kind: Kind, sample: bytes) -> bytes:
    """What the simulated sensor extracts from a sample: a one-way digest (the sample itself
    cannot be rebuilt from it)."""
    return hashlib.blake2b(sample, digest_size=32, person=kind.value.encode()).digest()


class Biometrics:
    """The device's biometric unlock (its trusted environment)."""

    def __init__(
        self, path: Path, key: bytes, clock: Clock, boots: int, password_ok: PasswordCheck
    ) -> None:
        self.conn: Connection = open_db(path, key)
        self.clock = clock
        self.boots = boots
        self.password_ok = password_ok

    def close(self) -> None:
        """Close the trusted store."""
        self.conn.close()

    # -- password ---------------------------------------------------------------------------

    def _need_password(self, password: str) -> None:
        if not self.password_ok(password):
            raise AuthError("the device password is needed for this", code="password_required")

    def unlock_with_password(self, password: str) -> None:
        """The password unlocked the device: fingerprint works again."""
        self._need_password(password)
        set_setting(self.conn, "password_boot", str(self.boots))
        set_setting(self.conn, "password_at", str(self.clock()))
        set_setting(self.conn, "failures", "0")

    # -- settings (need the password) -------------------------------------------------------

    def enroll(self, kind: Kind, sample: bytes, password: str) -> None:
        """Enrol a face or fingerprint: its features are kept, the sample is not."""
        self._need_password(password)
        if not sample:
            raise InputError("the sensor returned no sample", field="sample")
        self.conn.execute(
            "insert into biometrics (kind, features, enrolled_at) values (?, ?, ?) "
            "on conflict (kind) do update set features = excluded.features, "
            "enrolled_at = excluded.enrolled_at",
            (kind.value, features_of(kind, sample), self.clock()),
        )
        if kind is Kind.FACE:
            set_setting(self.conn, "face_on", "1")

    def set_face_unlock(self, on: bool, password: str) -> None:
        """Turn face unlock on or off; turning it off keeps the features."""
        self._need_password(password)
        set_setting(self.conn, "face_on", "1" if on else "0")

    def delete(self, kind: Kind, password: str) -> None:
        """Delete a biometric's features by hand."""
        self._need_password(password)
        self.conn.execute("delete from biometrics where kind = ?", (kind.value,))
        if kind is Kind.FACE:
            set_setting(self.conn, "face_on", "0")

    def enrolled(self, password: str) -> list[Kind]:
        """What is enrolled (entering the settings needs the password)."""
        self._need_password(password)
        return [Kind(r[0]) for r in self.conn.execute("select kind from biometrics order by 1")]

    @property
    def face_on(self) -> bool:
        """Whether face unlock is on."""
        return setting(self.conn, "face_on", "0") == "1"

    # -- checks -----------------------------------------------------------------------------

    def fingerprint_refusal(self) -> str | None:
        """Why fingerprint is refused now (a reason code), or None."""
        if setting(self.conn, "password_boot") != str(self.boots):
            return "password_after_boot"
        at = int(setting(self.conn, "password_at", "0") or 0)
        if self.clock() - at > MAX_HOURS_WITHOUT_PASSWORD * HOUR_US:
            return "password_after_72h"
        if int(setting(self.conn, "failures", "0") or 0) >= MAX_FAILURES:
            return "too_many_failures"
        return None

    def _features(self, kind: Kind) -> bytes | None:
        row = self.conn.execute(
            "select features from biometrics where kind = ?", (kind.value,)
        ).fetchone()
        return bytes(row[0]) if row else None

    def unlock(self, kind: Kind, sample: bytes) -> bool:
        """
        Unlock with a face or fingerprint.

        Raises:
            RefusedError: fingerprint refused now (the reason code), or face unlock is off.
        """
        if kind is Kind.FINGERPRINT:
            why = self.fingerprint_refusal()
            if why is not None:
                raise RefusedError("enter the password to unlock", code=why)
        elif not self.face_on:
            raise RefusedError("face unlock is off", code="face_unlock_off")
        kept = self._features(kind)
        ok = kept is not None and hmac.compare_digest(kept, features_of(kind, sample))
        if kind is Kind.FINGERPRINT:
            failures = 0 if ok else int(setting(self.conn, "failures", "0") or 0) + 1
            set_setting(self.conn, "failures", str(failures))
        return ok

    def check_for_app(self, app: str, kind: Kind, sample: bytes) -> bool:
        """What an app gets from a biometric check: the result only (never features)."""
        del app
        try:
            return self.unlock(kind, sample)
        except RefusedError:
            return False

    def wipe(self) -> None:
        """Factory reset: every feature and setting goes."""
        self.conn.execute("delete from biometrics")
        self.conn.execute("delete from settings")
