"""T9 for registration: the answer and its timing do not reveal whether an identifier is taken;
the account exists only once the code sent to the identifier comes back."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from charter.errors import AuthError, InputError
from charter.services.account import challenges
from charter.services.account.service import REGISTRATION
from charter.services.account.tables import accounts as account_table
from charter.services.account.tables import challenges as challenge_table
from support.accounts import HUMAN, PASSWORD, PHONE, make_account

NEW_PASSWORD = "another long passphrase"


def _payload(accounts, challenge_id: str) -> dict | None:
    with accounts.control.connect() as conn:
        context = json.loads(
            conn.execute(
                select(challenge_table.c.context).where(challenge_table.c.id == challenge_id)
            ).scalar_one()
        )
    if REGISTRATION not in context:
        return None
    plain = accounts.registrations.decrypt(
        base64.urlsafe_b64decode(context[REGISTRATION]), challenge_id=challenge_id
    )
    return None if plain is None else json.loads(plain)


def _account_count(accounts) -> int:
    with accounts.control.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(account_table)).scalar_one())


def test_registration_answers_do_not_reveal_taken_identifiers(client, accounts, sender) -> None:
    """Same status and body for free and taken identifiers. How close their timings are is a
    benchmark figure (``enumeration_register_median_diff_ms`` in ``bench/account.py``), never a
    test assertion; the same statements run either way (the test below)."""
    taken = make_account(accounts, sender, "alice@example.org").email
    statuses: dict[str, set[int]] = {"free": set(), "taken": set()}
    bodies: dict[str, set[str]] = {"free": set(), "taken": set()}
    for i in range(40):
        for kind in ("free", "taken") if i % 2 else ("taken", "free"):
            identifier = taken if kind == "taken" else f"fresh{i}@example.org"
            body = {"identifier": identifier, "password": NEW_PASSWORD, "country": "de"}
            response = client.post("/v1/account/register", json=body)
            statuses[kind].add(response.status_code)
            answer = response.json()
            assert answer["challenge_id"].startswith("ch_") and len(answer["challenge_id"]) == 35
            bodies[kind].add(response.text.replace(answer["challenge_id"], "ch_ID"))
    assert statuses["free"] == statuses["taken"] == {202}
    assert bodies["free"] == bodies["taken"] and len(bodies["free"]) == 1
    assert _account_count(accounts) == 1  # nothing is created before a code comes back


def test_registration_runs_the_same_statements_for_free_and_taken_identifiers(
    accounts, sender
) -> None:
    """The deterministic half of the timing test: same SQL, same commits, on every database."""
    taken = make_account(accounts, sender, "alice@example.org").email
    work: list[str] = []

    def statement(conn, cursor, sql, params, context, executemany) -> None:
        work.append(f"{conn.engine.url.database}: {sql}")

    def commit(conn) -> None:
        work.append(f"{conn.engine.url.database}: COMMIT")

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", commit)
    try:
        seen = {}
        for kind, identifier in (("free", "fresh@example.org"), ("taken", taken)):
            work.clear()
            accounts.register(identifier, NEW_PASSWORD, "de")
            seen[kind] = list(work)
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Engine, "commit", commit)
    assert seen["free"] == seen["taken"]
    assert sum(w.endswith("COMMIT") for w in seen["free"]) == 1


def test_account_is_created_at_confirmation_with_the_hash_made_at_registration(
    accounts, sender, tmp_path: Path
) -> None:
    challenge_id = accounts.register("carol@example.org", PASSWORD, "de")
    assert _account_count(accounts) == 0
    with pytest.raises(AuthError):  # no account yet: the same answer as any wrong sign-in
        accounts.login("carol@example.org", PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    payload = _payload(accounts, challenge_id)
    assert payload is not None and set(payload) == {"kind", "value", "country", "hash"}
    assert payload["hash"].startswith("$argon2id$") and PASSWORD not in json.dumps(payload)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert PASSWORD.encode() not in stored and b"carol@example.org" not in stored
    account_id = accounts.confirm_registration(challenge_id, sender.last_code("carol@example.org"))
    assert accounts.records.password_hash(account_id) == payload["hash"].encode()
    assert _payload(accounts, challenge_id) is None  # the sealed payload is gone once used
    assert accounts.status(account_id)["status"] == "active"
    assert accounts.profile(account_id)["country"] == "DE"
    outcome = accounts.login(
        "carol@example.org", PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN
    )
    assert outcome.status == "step_up"
    with pytest.raises(AuthError):  # a challenge is used once
        accounts.confirm_registration(challenge_id, sender.last_code("carol@example.org"))


def test_a_taken_identifier_challenge_never_creates_an_account(
    accounts, sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = make_account(accounts, sender, "alice@example.org")
    sent = len(sender.sent)
    monkeypatch.setattr(challenges, "new_code", lambda: "123456")
    challenge_id = accounts.register(alice.email, NEW_PASSWORD, "de")
    assert len(sender.sent) == sent  # no code goes out
    assert _payload(accounts, challenge_id) is None  # random bytes, not a registration
    with pytest.raises(AuthError) as wrong:  # even a guessed code
        accounts.confirm_registration(challenge_id, "123456")
    assert wrong.value.code == "invalid_code"
    assert _account_count(accounts) == 1


def test_an_identifier_taken_before_confirmation_is_refused_like_a_wrong_code(
    accounts, sender
) -> None:
    first = accounts.register("dave@example.org", PASSWORD, "de")
    first_code = sender.last_code("dave@example.org")
    second = accounts.register("dave@example.org", NEW_PASSWORD, "de")
    account_id = accounts.confirm_registration(second, sender.last_code("dave@example.org"))
    with pytest.raises(AuthError) as late:
        accounts.confirm_registration(first, first_code)
    assert late.value.code == "invalid_code"
    assert _account_count(accounts) == 1
    assert accounts.status(account_id)["status"] == "active"
    assert (
        accounts.login(
            "dave@example.org", NEW_PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN
        ).status
        == "step_up"
    )
    with pytest.raises(AuthError):  # the password of the registration that lost
        accounts.login("dave@example.org", PASSWORD, device=PHONE, ip="192.0.2.10", signals=HUMAN)
    with pytest.raises(InputError):
        accounts.create("dave@example.org", PASSWORD, "de")


def test_wrong_registration_codes_are_bounded(accounts, sender) -> None:
    challenge_id = accounts.register("erin@example.org", PASSWORD, "de")
    code = sender.last_code("erin@example.org")
    for _ in range(5):
        with pytest.raises(AuthError):
            accounts.confirm_registration(challenge_id, "000000" if code != "000000" else "111111")
    with pytest.raises(AuthError):
        accounts.confirm_registration(challenge_id, code)
    assert _account_count(accounts) == 0
