"""
The tamper-evident audit log (T6) on a real SQLite file and, when
``CHARTER_TEST_POSTGRES_URL`` is set, on a throwaway PostgreSQL database.

Every kind of tampering — a changed byte or bit in any column, deleted, inserted,
reordered and truncated entries — must be reported, naming the right seq. Fixtures live
here rather than in a ``conftest.py`` because other store tests are written concurrently.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.crypto import keyed_hash
from charter.errors import InputError, IntegrityError
from charter.gate import journal
from charter.gate.journal import GENESIS, AuditEntry, SignedTreeHead, merkle
from charter.store import schema

PG_ENV = "CHARTER_TEST_POSTGRES_URL"
KEY = b"k" * 32
OTHER_KEY = b"o" * 32
T0 = 1_767_225_600_000_000
ACTIONS = ("collect", "refuse", "use", "export", "erase", "switch", "admin", "purge")
ACTORS = ("service:cloud", "subject", "admin", "job:purge", "service:ads")
log = schema.audit_log


# -- engines ------------------------------------------------------------------------------------


def sqlite_engine(path: Path) -> sa.Engine:
    """A file SQLite engine whose transactions start with BEGIN IMMEDIATE (SQLAlchemy's
    documented recipe: the driver's own BEGIN disabled, ours emitted on begin)."""
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway database (random name) for this session or xdist worker, dropped after."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url = sa.make_url(base)
    name = f"charter_audit_{secrets.token_hex(6)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine with an empty ``audit_log`` table, on each backend."""
    if request.param == "sqlite":
        eng = sqlite_engine(tmp_path / "audit.db")
    else:
        eng = sa.create_engine(request.getfixturevalue("postgres_url"))
        log.drop(eng, checkfirst=True)
    schema.metadata.create_all(eng, tables=[log])
    try:
        yield eng
    finally:
        eng.dispose()


# -- helpers ------------------------------------------------------------------------------------


def make_entry(i: int) -> AuditEntry:
    ref = (
        None if i % 5 == 0 else keyed_hash(KEY, f"subject-{i % 97}".encode(), context="audit").hex()
    )
    return AuditEntry(
        at=T0 + i * 1_000,
        actor=ACTORS[i % len(ACTORS)],
        action=ACTIONS[i % len(ACTIONS)],
        subject_ref=ref,
        detail={"n": i, "reason": "consent_missing", "service": "cloud", "types": ["contact"]},
    )


def build(engine: sa.Engine, n: int, batch: int = 1000) -> None:
    for start in range(0, n, batch):
        with engine.begin() as conn:
            journal.append_entries(
                conn, [make_entry(i) for i in range(start, min(n, start + batch))]
            )


def fetch(engine: sa.Engine) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(log).order_by(log.c.seq)))


def verify(engine: sa.Engine, **kwargs: Any) -> journal.AuditReport:
    with engine.connect() as conn:
        return journal.verify_chain(conn, **kwargs)


def set_values(conn: sa.Connection, column: str, values: dict[int, object]) -> None:
    """Overwrite one column of many rows in one executemany."""
    if not values:
        return
    statement = (
        sa.update(log)
        .where(log.c.seq == sa.bindparam("b_seq"))
        .values({column: sa.bindparam("b_value")})
    )
    conn.execute(statement, [{"b_seq": s, "b_value": v} for s, v in values.items()])


def flip_char(text: str, position: int, bit: int) -> str:
    """``text`` with one bit of one (ASCII) character flipped, never producing NUL."""
    code = ord(text[position]) ^ (1 << bit)
    if code == 0:
        code = ord(text[position]) ^ 1
    return text[:position] + chr(code) + text[position + 1 :]


def renumber(conn: sa.Connection, after: int, delta: int) -> None:
    """Shift the seq of every entry after ``after`` by ``delta`` (two steps, so PostgreSQL's
    immediate primary-key check never sees a transient duplicate)."""
    conn.execute(sa.update(log).where(log.c.seq > after).values(seq=-(log.c.seq + delta)))
    conn.execute(sa.update(log).where(log.c.seq < 0).values(seq=-log.c.seq))


def named(report: journal.AuditReport) -> set[int]:
    """The seqs of the entries reported as changed."""
    out = set()
    for line in report.problems:
        words = line.split()
        if words[0] == "entry" and words[2:4] == ["was", "changed"]:
            out.add(int(words[1]))
    return out


def witness(engine: sa.Engine, tmp_path: Path, at: int = T0) -> SignedTreeHead:
    with engine.connect() as conn:
        sth = journal.tree_head(conn, KEY, at)
    journal.write_witness(tmp_path / "witness.json", sth)
    loaded = journal.read_witness(tmp_path / "witness.json")
    assert loaded == sth
    return loaded


# -- hashing ------------------------------------------------------------------------------------


def test_entry_hash_is_sha256_of_prev_hash_and_canonical_json() -> None:
    entry = AuditEntry(
        at=T0, actor="subject", action="erase", subject_ref=None, detail={"z": [1, 2], "a": "é"}
    )
    document = {
        "seq": 1,
        "at": T0,
        "actor": "subject",
        "action": "erase",
        "subject_ref": None,
        "detail": {"z": [1, 2], "a": "é"},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert '"a":"\\u00e9"' in text
    assert (
        journal.entry_hash(GENESIS, 1, entry)
        == hashlib.sha256((GENESIS + text).encode()).hexdigest()
    )
    with pytest.raises(InputError):
        journal.entry_hash(GENESIS, 1, replace(entry, detail={"x": object()}))


@settings(max_examples=40)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "at": st.integers(-(2**62), 2**62),
                "actor": st.text(min_size=1, max_size=80),
                "action": st.text(min_size=1, max_size=40),
                "subject_ref": st.none() | st.text(min_size=1, max_size=64),
                "detail": st.dictionaries(
                    st.text(max_size=8),
                    st.recursive(
                        st.none()
                        | st.booleans()
                        | st.integers()
                        | st.text(max_size=10)
                        | st.floats(allow_nan=False, allow_infinity=False),
                        lambda inner: (
                            st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=4), inner, max_size=3)
                        ),
                        max_leaves=6,
                    ),
                    max_size=4,
                ),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_stored_hashes_equal_entry_hash_for_any_entry(items: list[dict[str, Any]]) -> None:
    """Round trip through SQLite: what append stores is exactly what entry_hash defines, and
    the stored bytes verify."""
    engine = sa.create_engine("sqlite://")
    try:
        schema.metadata.create_all(engine, tables=[log])
        entries = [AuditEntry(**item) for item in items]
        with engine.begin() as conn:
            assert journal.append_entries(conn, entries) == len(entries)
        prev = GENESIS
        for entry, row in zip(entries, fetch(engine), strict=True):
            assert row.hash == journal.entry_hash(prev, row.seq, entry)
            assert row.prev_hash == prev
            assert json.loads(row.detail) == json.loads(json.dumps(entry.detail))
            prev = row.hash
        report = verify(engine)
        assert report.ok, report.problems
        assert report.head_hash == prev
    finally:
        engine.dispose()


# -- appending ----------------------------------------------------------------------------------


def test_append_chains_entries_and_returns_last_seq(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert journal.append_entries(conn, []) == 0
        assert journal.append_entries(conn, [make_entry(0)]) == 1
        assert journal.append_entries(conn, [make_entry(1), make_entry(2)]) == 3
        assert journal.append_entries(conn, []) == 3
    rows = fetch(engine)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    report = verify(engine)
    assert report == journal.AuditReport(
        entries=3,
        ok=True,
        problems=[],
        head_hash=rows[2].hash,
        root=merkle.root([bytes.fromhex(r.hash) for r in rows]).hex(),
    )


def test_empty_log_verifies(engine: sa.Engine) -> None:
    report = verify(engine)
    assert report.ok and report.entries == 0 and report.head_hash == GENESIS
    assert report.root == merkle.EMPTY_ROOT.hex()


def test_append_uses_one_select_and_one_insert(engine: sa.Engine) -> None:
    build(engine, 5)
    statements: list[tuple[str, bool]] = []

    def record(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, many: bool) -> None:
        statements.append((statement.split(maxsplit=1)[0].upper(), many))

    sa.event.listen(engine, "before_cursor_execute", record)
    with engine.begin() as conn:
        journal.append_entries(conn, [make_entry(i) for i in range(100)])
    sa.event.remove(engine, "before_cursor_execute", record)
    data = [s for s in statements if not s[0].startswith(("BEGIN", "COMMIT"))]
    if engine.dialect.name == "postgresql":
        assert data[0] == ("SELECT", False)  # pg_advisory_xact_lock
        data = data[1:]
    assert data[0] == ("SELECT", False)
    assert [kind for kind, _ in data[1:]] == ["INSERT"]
    assert verify(engine).entries == 105


def test_append_rejects_malformed_entries_and_writes_nothing(engine: sa.Engine) -> None:
    good = make_entry(1)
    bad = [
        replace(good, detail={"x": {1, 2}}),
        replace(good, detail={"x": float("nan")}),
        replace(good, detail=["not", "a", "mapping"]),  # type: ignore[arg-type]
        replace(good, at=1.5),  # type: ignore[arg-type]
        replace(good, at=True),
        replace(good, actor=""),
        replace(good, actor="a" * 81),
        replace(good, action="b" * 41),
        replace(good, subject_ref="c" * 65),
        replace(good, subject_ref=b"bytes"),  # type: ignore[arg-type]
        "not an entry",
    ]
    for item in bad:
        with pytest.raises(InputError), engine.begin() as conn:
            journal.append_entries(conn, [good, item])  # type: ignore[list-item]
    assert verify(engine).entries == 0


def test_personal_data_is_the_callers_responsibility(engine: sa.Engine) -> None:
    """The log cannot tell a personal value from any other string: a canary in ``detail`` is
    stored as given (docs/audit.md says callers must pass codes, counts and keyed hashes)."""
    canary = "canary-alice@example.com"
    with engine.begin() as conn:
        journal.append_entries(conn, [replace(make_entry(1), detail={"note": canary})])
    assert canary in fetch(engine)[0].detail
    assert verify(engine).ok


# -- the 10,000-entry chain -----------------------------------------------------------------------

WINDOW = range(4001, 4201)
BIG = 10_000


def test_every_byte_changed_in_a_window_is_detected(engine: sa.Engine) -> None:
    """Change every byte of ``detail``, ``actor`` and ``hash`` in a 200-entry window of a
    10,000-entry chain. Each round changes byte ``p`` of one column in every window entry
    that has one (one change per entry, and each entry's check depends only on its own
    columns, so each change is detected on its own), verifies the window plus the next entry
    given the trusted hash before it, then rolls the round back."""
    build(engine, BIG)
    report = verify(engine)
    assert report.ok and report.entries == BIG
    rows = {r.seq: r for r in fetch(engine)}
    first, last = WINDOW[0], WINDOW[-1] + 1
    trusted = rows[first - 1].hash
    tried = detected = 0
    for column in ("detail", "actor", "hash"):
        longest = max(len(getattr(rows[s], column)) for s in WINDOW)
        for position in range(longest):
            originals = {
                s: getattr(rows[s], column)
                for s in WINDOW
                if len(getattr(rows[s], column)) > position
            }
            with engine.connect() as conn:  # one transaction per round, rolled back
                conn.begin()
                set_values(
                    conn, column, {s: flip_char(v, position, 0) for s, v in originals.items()}
                )
                window = journal.verify_range(conn, first, last, prev_hash=trusted)
                assert window.problems == [f"entry {s} was changed" for s in sorted(originals)]
                tried += len(originals)
                detected += len(named(window) & originals.keys())
                if position == 3:  # the full verification names them too
                    assert named(journal.verify_chain(conn, max_problems=500)) == set(originals)
                conn.rollback()
    with engine.connect() as conn:
        assert journal.verify_range(conn, first, last, prev_hash=trusted).ok
    assert tried == detected > 200 * 64
    print(f"T6 window: {tried} byte changes tried, {detected} detected")
    assert verify(engine).ok


def bit_flips(
    rows: dict[int, Any], seqs: list[int], rng: random.Random
) -> dict[str, dict[int, object]]:
    """One random bit flip per entry, grouped by column."""
    columns = ("at", "actor", "action", "subject_ref", "detail", "prev_hash", "hash")
    out: dict[str, dict[int, object]] = {c: {} for c in columns}
    for seq in seqs:
        row = rows[seq]
        column = rng.choice([c for c in columns if getattr(row, c) is not None])
        value = getattr(row, column)
        if column == "at":
            out[column][seq] = value ^ (1 << rng.randrange(62))
        else:
            out[column][seq] = flip_char(value, rng.randrange(len(value)), rng.randrange(7))
    return out


def test_a_thousand_random_bit_flips_are_each_detected(engine: sa.Engine) -> None:
    build(engine, BIG)
    rows = {r.seq: r for r in fetch(engine)}
    rng = random.Random(6962)
    outside = [s for s in rows if s not in WINDOW]
    seqs = sorted(rng.sample(outside, 1000))
    flips = bit_flips(rows, seqs, rng)
    with engine.begin() as conn:
        for column, values in flips.items():
            set_values(conn, column, values)
        report = journal.verify_chain(conn)
        assert not report.ok
        assert named(report) == set(seqs), "every flipped entry, and only those"
        assert len(report.problems) == 1000
        for column, values in flips.items():
            set_values(conn, column, {s: getattr(rows[s], column) for s in values})
        assert journal.verify_chain(conn).ok
    print(f"T6 bit flips: 1000 tried, {len(named(report))} detected")


def test_bit_flips_one_at_a_time_on_a_small_chain(engine: sa.Engine) -> None:
    """300 random bit flips, each applied alone, verified, and restored."""
    build(engine, 500)
    rows = {r.seq: r for r in fetch(engine)}
    rng = random.Random(9162)
    detected = 0
    with engine.begin() as conn:
        for seq in [rng.randrange(1, 501) for _ in range(300)]:
            flips = bit_flips(rows, [seq], rng)
            for column, values in flips.items():
                set_values(conn, column, values)
            report = journal.verify_chain(conn)
            assert named(report) == {seq} and len(report.problems) == 1, report.problems
            detected += 1
            for column, values in flips.items():
                set_values(conn, column, {s: getattr(rows[s], column) for s in values})
        assert journal.verify_chain(conn).ok
    assert detected == 300


@pytest.mark.slow
def test_full_bit_flip_sweep(engine: sa.Engine) -> None:
    """Nightly: every low 7 bits of every character of every column (and 62 bits of ``at``)
    of a 200-entry chain, one flip per entry per round, each entry named."""
    build(engine, 200)
    rows = {r.seq: r for r in fetch(engine)}
    tried = 0
    for column in ("actor", "action", "subject_ref", "detail", "prev_hash", "hash", "at"):
        values = {s: getattr(r, column) for s, r in rows.items() if getattr(r, column) is not None}
        width = 62 if column == "at" else max(len(v) for v in values.values()) * 7
        for k in range(width):
            if column == "at":
                changed = {s: v ^ (1 << k) for s, v in values.items()}
            else:
                position, bit = divmod(k, 7)
                changed = {
                    s: flip_char(v, position, bit) for s, v in values.items() if len(v) > position
                }
            with engine.connect() as conn:  # one transaction per round, rolled back
                conn.begin()
                set_values(conn, column, changed)
                assert named(journal.verify_chain(conn)) == set(changed), (column, k)
                conn.rollback()
            tried += len(changed)
    assert verify(engine).ok
    print(f"T6 full sweep: {tried} bit flips tried, all detected")


def test_big_chain_deletion_reorder_and_truncation(engine: sa.Engine, tmp_path: Path) -> None:
    build(engine, BIG)
    sth = witness(engine, tmp_path)
    assert sth.size == BIG
    with engine.begin() as conn:
        conn.execute(sa.delete(log).where(log.c.seq == 7777))
        conn.execute(sa.update(log).where(log.c.seq == 2000).values(seq=-2000))
        conn.execute(sa.update(log).where(log.c.seq == 9000).values(seq=2000))
        conn.execute(sa.update(log).where(log.c.seq == -2000).values(seq=9000))
        conn.execute(sa.delete(log).where(log.c.seq > 9950))
        report = journal.verify_chain(conn, witnessed=sth, key=KEY)
        conn.rollback()
    assert report.problems == [
        "entries reordered at 2000: entry 2000 holds the entry that belongs at 9000",
        "entry 7777 is missing (gap between 7776 and 7778)",
        "entries reordered at 9000: entry 9000 holds the entry that belongs at 2000",
        f"chain truncated: the witnessed head has {BIG} entries, the log has 9949",
    ]
    assert verify(engine, witnessed=sth, key=KEY).ok


# -- deletion, insertion, reordering ---------------------------------------------------------


def tampered(engine: sa.Engine, *statements: Any, **kwargs: Any) -> journal.AuditReport:
    """Verify after applying ``statements`` (callables taking the connection), then undo."""
    with engine.begin() as conn:
        for statement in statements:
            statement(conn)
        report = journal.verify_chain(conn, **kwargs)
        conn.rollback()
    return report


def delete(first: int, last: int | None = None) -> Any:
    return lambda c: c.execute(sa.delete(log).where(log.c.seq.between(first, last or first)))


def test_deleted_entries_are_named(engine: sa.Engine) -> None:
    build(engine, 300)
    assert tampered(engine, delete(17)).problems == ["entry 17 is missing (gap between 16 and 18)"]
    assert tampered(engine, delete(40, 44)).problems == [
        "entries 40..44 are missing (gap between 39 and 45)"
    ]
    assert tampered(engine, delete(1)).problems == ["entry 1 is missing (the log starts at 2)"]
    assert tampered(engine, delete(1, 3)).problems == [
        "entries 1..3 are missing (the log starts at 4)"
    ]
    both = tampered(engine, delete(10), delete(200))
    assert both.problems == [
        "entry 10 is missing (gap between 9 and 11)",
        "entry 200 is missing (gap between 199 and 201)",
    ]
    # Deleting the last entry leaves a valid shorter chain: only a witnessed head shows it.
    assert tampered(engine, delete(300)).ok


def test_deletion_with_renumbering_is_named(engine: sa.Engine) -> None:
    build(engine, 300)
    report = tampered(engine, delete(17), lambda c: renumber(c, 17, -1))
    assert report.problems == [
        "entries reordered at 17: entries 17..299 hold the entries that belong at 18..300 "
        "(1 entry was removed before 17 and the rest renumbered)"
    ]
    report = tampered(engine, delete(50, 52), lambda c: renumber(c, 52, -3))
    assert report.problems == [
        "entries reordered at 50: entries 50..297 hold the entries that belong at 53..300 "
        "(3 entries were removed before 50 and the rest renumbered)"
    ]


def forged_row(seq: int, prev_hash: str, entry: AuditEntry) -> dict[str, object]:
    return {
        "seq": seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject_ref": entry.subject_ref,
        "detail": json.dumps(entry.detail, sort_keys=True, separators=(",", ":")),
        "prev_hash": prev_hash,
        "hash": journal.entry_hash(prev_hash, seq, entry),
    }


def test_inserted_entries_are_named(engine: sa.Engine) -> None:
    build(engine, 300)
    rows = {r.seq: r for r in fetch(engine)}
    forged = AuditEntry(at=T0, actor="admin", action="admin", subject_ref=None, detail={})

    def insert_after(k: int) -> Any:
        def run(conn: sa.Connection) -> None:
            renumber(conn, k, 1)
            conn.execute(log.insert(), [forged_row(k + 1, rows[k].hash, forged)])

        return run

    # A well-forged entry in the middle: everything after it is displaced by one.
    assert tampered(engine, insert_after(50)).problems == [
        "entries reordered at 52: entries 52..301 hold the entries that belong at 51..300 "
        "(1 entry was inserted before 52)"
    ]
    # A crude one (wrong hash) at the end, and one before the start.
    garbage = {**forged_row(301, "f" * 64, forged), "hash": "e" * 64}
    assert tampered(engine, lambda c: c.execute(log.insert(), [garbage])).problems == [
        "entry 301 was changed or inserted (it does not link to entry 300)"
    ]
    unlinked = forged_row(301, "f" * 64, forged)  # self-consistent, but follows nothing
    assert tampered(engine, lambda c: c.execute(log.insert(), [unlinked])).problems == [
        "chain broken at entry 301: its prev_hash is not the hash of entry 300 "
        "(entry 300 was replaced, or entry 301 forged)"
    ]
    before = forged_row(0, GENESIS, forged)
    assert tampered(engine, lambda c: c.execute(log.insert(), [before])).problems == [
        "entry 0 was inserted before the start of the log"
    ]


def test_replaced_entry_is_named(engine: sa.Engine) -> None:
    """A self-consistent replacement (right prev_hash, recomputed hash) breaks the next link."""
    build(engine, 100)
    rows = {r.seq: r for r in fetch(engine)}
    forged = AuditEntry(at=T0, actor="admin", action="admin", subject_ref=None, detail={"x": 1})
    replacement = forged_row(60, rows[59].hash, forged)

    def replace_60(conn: sa.Connection) -> None:
        conn.execute(sa.delete(log).where(log.c.seq == 60))
        conn.execute(log.insert(), [replacement])

    assert tampered(engine, replace_60).problems == [
        "chain broken at entry 61: its prev_hash is not the hash of entry 60 "
        "(entry 60 was replaced, or entry 61 forged)"
    ]


def swap(a: int, b: int) -> Any:
    def run(conn: sa.Connection) -> None:
        conn.execute(sa.update(log).where(log.c.seq == a).values(seq=-1))
        conn.execute(sa.update(log).where(log.c.seq == b).values(seq=a))
        conn.execute(sa.update(log).where(log.c.seq == -1).values(seq=b))

    return run


def test_reordered_entries_are_named(engine: sa.Engine) -> None:
    build(engine, 300)
    assert tampered(engine, swap(30, 31)).problems == [
        "entries reordered at 30: entry 30 holds the entry that belongs at 31",
        "entries reordered at 31: entry 31 holds the entry that belongs at 30",
    ]
    assert tampered(engine, swap(100, 250)).problems == [
        "entries reordered at 100: entry 100 holds the entry that belongs at 250",
        "entries reordered at 250: entry 250 holds the entry that belongs at 100",
    ]
    assert tampered(engine, swap(1, 2)).problems == [
        "entries reordered at 1: entry 1 holds the entry that belongs at 2",
        "entries reordered at 2: entry 2 holds the entry that belongs at 1",
    ]
    moved = tampered(
        engine, lambda c: c.execute(sa.update(log).where(log.c.seq == 70).values(seq=400))
    )
    assert moved.problems == [
        "entry 70 is missing (gap between 69 and 71)",
        "entries 301..399 are missing (gap between 300 and 400)",
        "entries reordered at 400: entry 400 holds the entry that belongs at 70",
    ]

    def reverse_block(conn: sa.Connection) -> None:
        conn.execute(sa.update(log).where(log.c.seq.between(10, 19)).values(seq=-(29 - log.c.seq)))
        conn.execute(sa.update(log).where(log.c.seq < 0).values(seq=-log.c.seq))

    report = tampered(engine, reverse_block)
    assert not report.ok
    assert len(report.problems) == 10
    for offset, line in enumerate(report.problems):
        seq = 10 + offset
        assert (
            line
            == f"entries reordered at {seq}: entry {seq} holds the entry that belongs at {29 - seq}"
        )


# -- witnessed heads, truncation, proofs ----------------------------------------------------------


def test_truncation_is_detected_against_the_witnessed_head(
    engine: sa.Engine, tmp_path: Path
) -> None:
    build(engine, 120)
    sth = witness(engine, tmp_path)
    assert verify(engine, witnessed=sth, key=KEY).ok
    cut = tampered(
        engine, lambda c: c.execute(sa.delete(log).where(log.c.seq > 100)), witnessed=sth, key=KEY
    )
    assert cut.problems == ["chain truncated: the witnessed head has 120 entries, the log has 100"]
    # Without the witness a truncated chain is a valid shorter chain (the reason to witness).
    assert tampered(engine, lambda c: c.execute(sa.delete(log).where(log.c.seq > 100))).ok

    def truncate_and_regrow(conn: sa.Connection) -> None:
        conn.execute(sa.delete(log).where(log.c.seq > 100))
        journal.append_entries(conn, [make_entry(1000 + i) for i in range(30)])

    regrown = tampered(engine, truncate_and_regrow, witnessed=sth, key=KEY)
    assert regrown.problems == [
        "the first 120 entries do not match the witnessed tree head "
        "(the Merkle root differs: entries were rewritten)"
    ]
    # Honest growth after the witness is fine.
    build(engine, 15)
    assert verify(engine, witnessed=sth, key=KEY).ok
    # A head with a forged signature, or a malformed one, is reported.
    forged = replace(sth, size=sth.size - 1)
    assert (
        "the witnessed tree head's signature is invalid"
        in verify(engine, witnessed=forged, key=KEY).problems
    )
    assert verify(engine, witnessed=sth, key=OTHER_KEY).problems == [
        "the witnessed tree head's signature is invalid"
    ]
    assert verify(engine, witnessed=replace(sth, root="zz")).problems == [
        "the witnessed tree head is malformed"
    ]


def test_rewritten_chain_is_detected_only_with_a_witness(engine: sa.Engine, tmp_path: Path) -> None:
    """Someone who can recompute every hash can rewrite the chain; the signed head shows it."""
    build(engine, 50)
    sth = witness(engine, tmp_path)

    def rewrite(conn: sa.Connection) -> None:
        conn.execute(sa.delete(log))
        journal.append_entries(conn, [replace(make_entry(i), actor="admin") for i in range(50)])

    assert tampered(engine, rewrite).ok
    assert not tampered(engine, rewrite, witnessed=sth, key=KEY).ok


def test_tree_head_root_and_signature(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        empty = journal.tree_head(conn, KEY, T0)
    assert (empty.size, empty.root) == (0, merkle.EMPTY_ROOT.hex())
    build(engine, 77)
    with engine.connect() as conn:
        sth = journal.tree_head(conn, KEY, T0 + 5)
    leaves = [bytes.fromhex(r.hash) for r in fetch(engine)]
    assert sth.size == 77 and sth.at == T0 + 5
    assert sth.root == merkle.root(leaves).hex()
    assert journal.verify_tree_head(sth, KEY)
    assert not journal.verify_tree_head(sth, OTHER_KEY)
    for changed in (
        replace(sth, size=76),
        replace(sth, at=T0),
        replace(sth, root="0" * 64),
        replace(sth, signature="0" * 64),
        replace(sth, signature=sth.signature[:-2]),
        replace(sth, size=-1),
        replace(sth, size="77"),  # type: ignore[arg-type]
        replace(sth, root=sth.root.upper()),
    ):
        assert not journal.verify_tree_head(changed, KEY)


def test_tree_head_refuses_a_tampered_log(engine: sa.Engine) -> None:
    build(engine, 20)
    with engine.begin() as conn:
        conn.execute(sa.update(log).where(log.c.seq == 5).values(actor="admin2"))
        with pytest.raises(IntegrityError, match="entry 5 was changed"):
            journal.tree_head(conn, KEY, T0)
        conn.rollback()


def test_inclusion_proofs_for_every_entry_at_three_sizes(engine: sa.Engine) -> None:
    build(engine, 300)
    hashes = [r.hash for r in fetch(engine)]
    with engine.connect() as conn:
        for size in (100, 256, 300):
            root = merkle.root([bytes.fromhex(x) for x in hashes[:size]]).hex()
            for seq in range(1, size + 1):
                proof = journal.inclusion_proof(conn, seq, size, chunk_size=128)
                assert journal.verify_inclusion_proof(hashes[seq - 1], seq, size, proof, root)
                if seq % 50 == 0:
                    assert not journal.verify_inclusion_proof(
                        hashes[seq - 2], seq, size, proof, root
                    )
                    assert not journal.verify_inclusion_proof(
                        hashes[seq - 1], seq + 1, size, proof, root
                    )
                    assert not journal.verify_inclusion_proof(
                        hashes[seq - 1], seq, size, proof[:-1], root
                    )
                    assert not journal.verify_inclusion_proof(
                        hashes[seq - 1], seq, size, "ab", root
                    )
        for seq, size in ((0, 10), (11, 10), (1, 301), (1, -1)):
            with pytest.raises(InputError):
                journal.inclusion_proof(conn, seq, size)


def test_consistency_between_all_checkpoints(engine: sa.Engine) -> None:
    checkpoints = [0, 1, 2, 3, 7, 8, 9, 64, 100, 127, 128, 129, 200]
    heads: list[SignedTreeHead] = []
    done = 0
    for size in checkpoints:
        with engine.begin() as conn:
            journal.append_entries(conn, [make_entry(i) for i in range(done, size)])
            heads.append(journal.tree_head(conn, KEY, T0 + size))
        done = size
    tried = 0
    with engine.connect() as conn:
        for j, new in enumerate(heads):
            for old in heads[: j + 1]:
                proof = journal.consistency_proof(conn, old.size, new.size, chunk_size=64)
                assert journal.verify_consistency_proof(old, new, proof), (old.size, new.size)
                if proof:
                    assert not journal.verify_consistency_proof(old, new, proof[1:])
                    assert not journal.verify_consistency_proof(new, old, proof)
                    bad = [proof[0][:-1] + ("0" if proof[0][-1] != "0" else "1"), *proof[1:]]
                    assert not journal.verify_consistency_proof(old, new, bad)
                tried += 1
        with pytest.raises(InputError):
            journal.consistency_proof(conn, 5, 4)
        with pytest.raises(InputError):
            journal.consistency_proof(conn, 1, 201)
    assert tried == len(checkpoints) * (len(checkpoints) + 1) // 2


def test_streaming_chunk_size_does_not_change_the_report(engine: sa.Engine) -> None:
    build(engine, 250)
    with engine.begin() as conn:
        conn.execute(sa.update(log).where(log.c.seq.in_([3, 64, 65, 200])).values(action="use2"))
        conn.execute(sa.delete(log).where(log.c.seq == 100))
        reports = [journal.verify_chain(conn, chunk_size=n) for n in (1, 7, 64, 1000)]
        capped = journal.verify_chain(conn, max_problems=2)
        conn.rollback()
    assert all(r == reports[0] for r in reports)
    with engine.connect() as conn:
        for bad in (0, -1):
            with pytest.raises(InputError):
                journal.verify_chain(conn, chunk_size=bad)
            with pytest.raises(InputError):
                journal.inclusion_proof(conn, 1, 10, chunk_size=bad)
    assert reports[0].problems == [
        "entry 3 was changed",
        "entry 64 was changed",
        "entry 65 was changed",
        "entry 100 is missing (gap between 99 and 101)",
        "entry 200 was changed",
    ]
    assert capped.problems[-1] == "… and 3 more problems not listed" and len(capped.problems) == 3


def test_verify_range_reports_missing_entries_at_its_end(engine: sa.Engine) -> None:
    build(engine, 30)
    rows = {r.seq: r for r in fetch(engine)}
    with engine.connect() as conn:
        assert journal.verify_range(conn, 10, 20, prev_hash=rows[9].hash).ok
        assert journal.verify_range(conn, 1, 30, prev_hash=GENESIS).ok
        assert journal.verify_range(conn, 10, 20, prev_hash=rows[8].hash).problems == [
            "chain broken at entry 10: its prev_hash is not the hash it should follow "
            "(entry 10 was replaced)"
        ]
        assert journal.verify_range(conn, 25, 40, prev_hash=rows[24].hash).problems == [
            "entries 31..40 are missing (the range ends at 40)"
        ]
        with pytest.raises(InputError):
            journal.verify_range(conn, 5, 4, prev_hash=GENESIS)


# -- witness file ---------------------------------------------------------------------------------


def test_witness_file_round_trip_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "witness.json"
    assert journal.read_witness(path) is None
    sth = SignedTreeHead(size=3, root="ab" * 32, at=T0, signature="cd" * 32)
    journal.write_witness(path, sth)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert journal.read_witness(path) == sth
    newer = replace(sth, size=4)
    journal.write_witness(path, newer)
    assert journal.read_witness(path) == newer
    assert sorted(p.name for p in tmp_path.iterdir()) == ["witness.json"]
    for content in (
        "",
        "{",
        "[]",
        '{"size": 1}',
        json.dumps({"version": 1, "size": -1, "root": "ab" * 32, "at": T0, "signature": "cd" * 32}),
        json.dumps({"version": 2, "size": 1, "root": "ab" * 32, "at": T0, "signature": "cd" * 32}),
        json.dumps({"version": 1, "size": 1, "root": "AB" * 32, "at": T0, "signature": "cd" * 32}),
    ):
        path.write_text(content)
        with pytest.raises(IntegrityError):
            journal.read_witness(path)


# -- concurrency ----------------------------------------------------------------------------------


def test_concurrent_appenders_keep_one_chain(engine: sa.Engine) -> None:
    """4 threads append 200 entries each, one transaction per entry, to the same database."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(200):
                with engine.begin() as conn:
                    journal.append_entries(conn, [replace(make_entry(i), actor=f"service:w{n}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify(engine)
    assert report.ok, report.problems
    assert report.entries == 800
    assert [r.seq for r in fetch(engine)] == list(range(1, 801))
