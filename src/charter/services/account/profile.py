"""
The profile: nickname, picture and gender, the contacts shown masked with it, and the
recovery phone or email.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from charter.errors import InputError
from charter.services.account import keys
from charter.services.account.common import record_type, require_fresh
from charter.services.account.context import AccountContext
from charter.services.account.identifiers import parse_identifier
from charter.services.account.sessions import SessionInfo
from charter.services.account.tables import identifiers

GENDERS = ("female", "male", "other", "unspecified")


class Profile:
    """Reading and changing an account's profile and recovery contact."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

    def profile(self, subject_id: str) -> dict[str, Any]:
        """Nickname, picture and gender, plus masked sign-in and recovery contacts."""
        out: dict[str, Any] = {
            "account_id": subject_id,
            "nickname": None,
            "picture": None,
            "gender": None,
            "contacts": [],
        }
        for r in self.context.records.read(subject_id):
            if r.data_type == "profile_data" and isinstance(r.value, dict):
                out.update({k: r.value.get(k) for k in ("nickname", "picture", "gender")})
            elif r.data_type in ("email_address", "phone_number") and isinstance(r.value, str):
                out["contacts"].append(
                    {
                        "kind": "email" if r.data_type == "email_address" else "phone",
                        "role": r.source,
                        "value": r.value,
                    }
                )
            elif r.data_type == "country":
                out["country"] = r.value
        return out

    def update_profile(
        self,
        subject_id: str,
        *,
        nickname: str | None = None,
        picture: str | None = None,
        gender: str | None = None,
    ) -> dict[str, Any]:
        """
        Change the profile (unset fields keep their value).

        Raises:
            InputError: a nickname over 64 characters, a picture that is not an https URL, or
                an unknown gender.
        """
        records = self.context.records
        current = records.latest(subject_id, "profile_data")
        value = dict(current.value) if current and isinstance(current.value, dict) else {}
        if nickname is not None:
            if len(nickname) > 64 or any(ord(c) < 32 for c in nickname):
                raise InputError("a nickname has at most 64 printable characters", field="nickname")
            value["nickname"] = nickname
        if picture is not None:
            if not (picture.startswith("https://") and len(picture) <= 512) and picture != "":
                raise InputError(
                    "the picture must be an https URL (at most 512 characters)", field="picture"
                )
            value["picture"] = picture or None
        if gender is not None:
            if gender not in GENDERS:
                raise InputError(f"gender is one of: {', '.join(GENDERS)}", field="gender")
            value["gender"] = gender
        records.replace(subject_id, "profile_data", value, why="profile_update")
        return self.profile(subject_id)

    def set_recovery_contact(self, session: SessionInfo, contact: str) -> None:
        """
        Set (or replace) the recovery phone or email; needs a fresh authentication.

        Raises:
            StepUpRequiredError: the session is not fresh.
            InputError: malformed contact.
        """
        ctx = self.context
        require_fresh(ctx, session)
        subject_id = session.subject_id
        ident = parse_identifier(contact, ctx.gate.subject(subject_id).market)
        data_type = record_type(ident)
        old = [r.id for r in ctx.records.read(subject_id) if r.source == "recovery"]
        ctx.records.write(subject_id, [(data_type, ident.value, "recovery")])
        ctx.records.delete(subject_id, old, why="recovery_change")
        now = ctx.clock()
        with ctx.control.begin() as conn:
            conn.execute(
                identifiers.delete().where(
                    identifiers.c.subject_id == subject_id, identifiers.c.role == "recovery"
                )
            )
            lookup = keys.lookup(ctx.keyring, ident.kind, ident.value)
            exists = conn.execute(
                select(identifiers.c.lookup).where(identifiers.c.lookup == lookup)
            ).first()
            if exists is None:
                conn.execute(
                    insert(identifiers).values(
                        lookup=lookup,
                        subject_id=subject_id,
                        kind=ident.kind,
                        role="recovery",
                        created_at=now,
                    )
                )
