"""
Sign-in identifiers: validation and normalisation of email addresses and phone numbers.

Phones become E.164 (``+4915123456789``) with the ``phonenumbers`` library, parsed in the
region of the account's country when written without a country code. Emails are checked
for syntax (no DNS lookups) with ``email-validator`` and normalised: Unicode NFC, domain
lower-cased and IDNA-encoded, local part lower-cased.

Values are wrapped in :class:`Identifier`, whose ``repr``/``str``/``format`` are masked so
they never reach logs or error messages by accident.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from charter.errors import InputError

Kind = Literal["email", "phone"]

MAX_EMAIL_CHARS = 254
MAX_PHONE_CHARS = 32


@dataclass(frozen=True, slots=True, repr=False)
class Identifier:
    """A normalised email address or phone number; masked when printed."""

    kind: Kind
    value: str

    def __repr__(self) -> str:
        return f"Identifier({self.kind}, ***)"

    def __str__(self) -> str:
        return f"<{self.kind}>"

    def __format__(self, spec: str) -> str:
        return str(self)


def normalise_email(raw: str) -> Identifier:
    """
    A valid, normalised email address.

    Raises:
        InputError: not a syntactically valid address.
    """
    if not isinstance(raw, str) or not raw or len(raw) > MAX_EMAIL_CHARS:
        raise InputError("enter a valid email address", field="email")
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InputError("enter a valid email address", field="email") from None
    local = unicodedata.normalize("NFC", info.local_part).lower()
    domain = info.ascii_domain.lower()
    return Identifier("email", f"{local}@{domain}")


def normalise_phone(raw: str, country: str | None = None) -> Identifier:
    """
    A valid phone number in E.164 form.

    Args:
        raw: as typed; with a leading ``+`` or in the national form of ``country``.
        country: ISO 3166-1 alpha-2 code used for national numbers.

    Raises:
        InputError: not a valid number.
    """
    if not isinstance(raw, str) or not raw or len(raw) > MAX_PHONE_CHARS:
        raise InputError("enter a valid phone number", field="phone")
    try:
        parsed = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise InputError("enter a valid phone number", field="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InputError("enter a valid phone number", field="phone")
    return Identifier(
        "phone", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    )


def parse_identifier(raw: str, country: str | None = None) -> Identifier:
    """An email address (when it contains ``@``) or a phone number, normalised."""
    if isinstance(raw, str) and "@" in raw:
        return normalise_email(raw)
    return normalise_phone(raw, country)
