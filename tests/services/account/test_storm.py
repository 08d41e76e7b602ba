"""T23 (login storm part): 20 concurrent sign-ins beside 10 readers; excess sign-ins are shed
with 503 by the argon2 admission gate, every read is answered, memory stays bounded.

How fast the readers stay is a benchmark figure (``storm_reader_p99_ms`` in
``bench/account.py``), never a test assertion: a busy machine would fail it at random."""

from __future__ import annotations

import resource
import threading

from charter.services.account import AccountService, Argon2Params, HashingGate, passwords
from support.accounts import HUMAN, PASSWORD, PHONE, TestClient, build_app, make_account

STORM_PROFILE = Argon2Params(memory_kib=19_456, time_cost=2, parallelism=1)
"""An OWASP row: each hash holds 19 MiB, so unbounded concurrency would show in memory."""


def test_login_storm_is_shed_and_readers_stay_fast(charter, sender, provider) -> None:
    accounts = AccountService(
        charter.gate,
        sender=sender,
        profile=passwords.FAST_FOR_TESTS,
        hashing=HashingGate(slots=2, queue=2, wait_seconds=0.5),
    )
    users = [make_account(accounts, sender, f"storm{i}@example.org") for i in range(4)]
    passwords.install_profile(charter.gate.passwords, STORM_PROFILE)
    try:
        app = build_app(charter, accounts, provider)
        statuses: list[int] = []
        reads: list[int] = []
        start = threading.Barrier(30)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with TestClient(app, base_url="https://testserver") as client:

            def login(i: int) -> None:
                start.wait()
                user = users[i % 4]
                body = {
                    "identifier": user.email,
                    "password": PASSWORD,
                    "device_id": PHONE.device_id,
                    "signals": HUMAN,
                }
                statuses.append(client.post("/v1/account/login", json=body).status_code)

            def read(i: int) -> None:
                headers = {"Authorization": f"Bearer {users[i % 4].tokens.access_token}"}
                start.wait()
                for _ in range(5):
                    reads.append(client.get("/v1/account/sessions", headers=headers).status_code)

            threads = [threading.Thread(target=login, args=(i,)) for i in range(20)]
            threads += [threading.Thread(target=read, args=(i,)) for i in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        rss_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    finally:
        passwords.install_profile(charter.gate.passwords, passwords.FAST_FOR_TESTS)
    shed = statuses.count(503)
    assert set(statuses) <= {200, 503} and len(statuses) == 20
    assert statuses.count(200) >= 2 and shed >= 1
    assert reads == [200] * 50  # readers are never shed with the sign-ins
    assert rss_growth_mib < 20 * 19  # far below 20 hashes at once
