"""Identifier normalisation: E.164 phones, normalised emails, masked printing."""

from __future__ import annotations

import pytest

from charter.errors import InputError
from charter.services.account import normalise_email, normalise_phone, parse_identifier
from charter.services.account.senders import FileSender


def test_phones_become_e164() -> None:
    assert normalise_phone("+49 30 1234567").value == "+49301234567"
    assert normalise_phone("030 1234567", "de").value == "+49301234567"
    assert normalise_phone("(415) 555-2671", "us").value == "+14155552671"
    for bad in ("12", "+99 123", "phone", "+49 30 1234567 ext 12345678901234567890"):
        with pytest.raises(InputError):
            normalise_phone(bad, "de")


def test_emails_are_validated_and_normalised() -> None:
    assert normalise_email("  Alice.Smith@Example.ORG ").value == "alice.smith@example.org"
    assert normalise_email("josé@bücher.de").value == "josé@xn--bcher-kva.de"
    for bad in ("no-at-sign", "a@", "@b.c", "a@b", "a b@c.de"):
        with pytest.raises(InputError):
            normalise_email(bad)


def test_identifiers_never_print_their_value(tmp_path) -> None:
    ident = parse_identifier("alice@example.org")
    assert "alice" not in repr(ident) and "alice" not in str(ident) and "alice" not in f"{ident}"
    sender = FileSender(tmp_path / "out" / "codes.jsonl")
    sender.send(ident, "123456", purpose="verify")
    assert (tmp_path / "out" / "codes.jsonl").stat().st_mode & 0o777 == 0o600
    assert "123456" in (tmp_path / "out" / "codes.jsonl").read_text()
