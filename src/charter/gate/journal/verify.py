"""
Checking the audit log: :func:`verify_chain` (the whole log, optionally against a witnessed
signed tree head) and :func:`verify_range` (a window, given the hash of the entry before it).
See ``docs/audit.md``.

One streaming pass in seq order recomputes every entry's hash from the stored bytes and
names the seq of every problem: changed entries, missing entries (gaps), entries moved to
another seq (reordering, insertion or removal with renumbering) and self-consistent
forgeries that do not link. Tampering is reported, never raised.

A hash chain alone cannot show that its *tail* was cut off, nor that the whole chain was
rewritten by someone able to recompute every hash. For that, :func:`verify_chain` takes the
last signed tree head kept outside the database (see :mod:`charter.gate.journal.treehead`)
and compares it with the Merkle root of the first ``size`` entries, built in the same pass.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from dataclasses import dataclass, field

import sqlalchemy as sa

from charter.errors import InputError
from charter.gate.journal import merkle
from charter.gate.journal.chain import (
    CHUNK_SIZE,
    GENESIS,
    StoredRow,
    check_chunk_size,
    leaf_data,
    row_hash,
    stream_rows,
)
from charter.gate.journal.treehead import SignedTreeHead, is_well_formed, verify_tree_head

__all__ = ["AuditReport", "verify_chain", "verify_range"]

MAX_PROBLEMS = 1000
"""Problems listed in a report by default; the rest are counted in a last line."""

_REORDER_WINDOW = 65_536
_PENDING_LIMIT = 10_000
_NEARBY = (1, -1, 2, -2, 3, -3, 4, -4)


@dataclass
class AuditReport:
    """
    The result of :func:`verify_chain` or :func:`verify_range`.

    Attributes:
        entries: how many entries were read.
        ok: ``True`` when no problem was found.
        problems: one line per problem, naming the seq (``"entry 42 was changed"``).
        head_hash: the stored hash of the last entry read (``GENESIS`` if none).
        root: the Merkle root (hex) over the hashes of the entries read.
    """

    entries: int
    ok: bool
    problems: list[str]
    head_hash: str
    root: str = field(default=merkle.EMPTY_ROOT.hex())


# --------------------------------------------------------------------------- verifying


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


class _Scanner:
    """Walks rows in seq order once, recomputing every hash; collects problems by seq."""

    def __init__(
        self, *, first_seq: int, prev_hash: str, witnessed_size: int | None, max_problems: int
    ) -> None:
        self.first_seq = first_seq
        self.expected = first_seq
        self.prev_seq = first_seq - 1
        self.prev_stored: object = prev_hash
        self.prev_intact = True
        self.count = 0
        self.max_problems = max_problems
        self.total_problems = 0
        self.records: list[tuple[int, str]] = []
        self.recent: OrderedDict[str, int] = OrderedDict()
        self.pending: dict[str, list[StoredRow]] = {}
        self.pending_count = 0
        self.unresolved: dict[int, str] = {}
        self.run: list[int] | None = None  # [start, end, offset]
        self.builder = merkle.RootBuilder()
        self.witnessed_size = witnessed_size
        self.witnessed_root: bytes | None = merkle.EMPTY_ROOT if witnessed_size == 0 else None

    # -- problems

    def problem(self, seq: int, message: str) -> None:
        self.total_problems += 1
        if len(self.records) < self.max_problems:
            self.records.append((seq, message))

    def flush_run(self, *, at_end: bool = False) -> None:
        if self.run is None:
            return
        start, end, offset = self.run
        self.run = None
        if start == end:
            text = (
                f"entries reordered at {start}: entry {start} holds the entry that "
                f"belongs at {start - offset}"
            )
        else:
            text = (
                f"entries reordered at {start}: entries {start}..{end} hold the entries "
                f"that belong at {start - offset}..{end - offset}"
            )
        at_end = at_end and end > start  # a lone moved entry says nothing about the rest
        if at_end and offset > 0:
            text += (
                f" ({offset} {_plural(offset, 'entry was', 'entries were')} inserted "
                f"before {start})"
            )
        elif at_end and offset < 0:
            text += (
                f" ({-offset} {_plural(-offset, 'entry was', 'entries were')} removed "
                f"before {start} and the rest renumbered)"
            )
        self.problem(start, text)

    def displaced(self, seq: int, original: int) -> None:
        offset = seq - original
        run = self.run
        if run is not None and run[1] == seq - 1 and run[2] == offset:
            run[1] = seq
            return
        self.flush_run()
        self.run = [seq, seq, offset]

    # -- rows

    def remember(self, stored_hash: object, original: int, *, known: bool = True) -> None:
        """Record where the entry with ``stored_hash`` belongs; when that is ``known``,
        resolve the rows waiting for it as their predecessor (and, in turn, theirs)."""
        work = [(stored_hash, original)]
        while work:
            current, where = work.pop()
            if not isinstance(current, str):
                continue
            self.recent[current] = where
            self.recent.move_to_end(current)
            if len(self.recent) > _REORDER_WINDOW:
                self.recent.popitem(last=False)
            if not known:
                return
            for row in self.pending.pop(current, None) or ():
                self.pending_count -= 1
                if row.seq in self.unresolved and row_hash(row, where + 1) == row.hash:
                    del self.unresolved[row.seq]
                    self.problem(
                        row.seq,
                        f"entries reordered at {row.seq}: entry {row.seq} "
                        f"holds the entry that belongs at {where + 1}",
                    )
                    work.append((row.hash, where + 1))

    def locate(self, row: StoredRow) -> int | None:
        """The seq at which a row that does not verify at its own seq would verify."""
        candidates: list[int] = []
        if isinstance(row.prev_hash, str):
            before = self.recent.get(row.prev_hash)
            if before is not None:
                candidates.append(before + 1)
        if self.run is not None and self.run[1] == row.seq - 1:
            candidates.append(row.seq - self.run[2])
        candidates.extend(row.seq + d for d in _NEARBY)
        for candidate in candidates:
            if candidate >= 1 and candidate != row.seq and row_hash(row, candidate) == row.hash:
                return candidate
        return None

    def add(self, row: StoredRow) -> None:
        seq = row.seq
        self.count += 1
        self.builder.add(merkle.leaf_hash(leaf_data(row.hash)))
        if self.count == self.witnessed_size:
            self.witnessed_root = self.builder.root()

        status = self.check_seq(seq)
        if status == "misplaced":
            return  # reported; the chain goes on from the entry before it
        gap = status == "gap"
        intact = row_hash(row, seq) == row.hash
        linked = row.prev_hash == self.prev_stored
        if intact:
            self.flush_run()
            if not gap and self.prev_intact and not linked:
                self.broken_link(row)
            self.remember(row.hash, seq)
        else:
            original = self.locate(row)
            if original is not None:
                self.displaced(seq, original)
                self.remember(row.hash, original)
            else:
                self.flush_run()
                suffix = (
                    ""
                    if linked or gap
                    else (
                        f" or inserted (it does not link to entry {self.prev_seq})"
                        if self.prev_intact and self.prev_seq >= self.first_seq
                        else ""
                    )
                )
                message = f"entry {seq} was changed{suffix}"
                if isinstance(row.prev_hash, str) and self.pending_count < _PENDING_LIMIT:
                    # It may yet turn out to be an entry moved here from further on.
                    self.unresolved[seq] = message
                    self.pending.setdefault(row.prev_hash, []).append(row)
                    self.pending_count += 1
                else:
                    self.problem(seq, message)
                self.remember(row.hash, seq, known=False)
        self.prev_intact = intact
        self.prev_stored = row.hash
        self.prev_seq = seq
        self.expected = max(self.expected, seq + 1)

    def check_seq(self, seq: int) -> str:
        """Report a seq out of place or a gap before it: ``"misplaced"``, ``"gap"`` or
        ``"ok"``."""
        if seq < self.expected:
            self.flush_run()
            if seq < self.first_seq:
                self.problem(seq, f"entry {seq} was inserted before the start of the log")
            else:
                self.problem(seq, f"entry {seq} is out of place (expected {self.expected})")
            return "misplaced"
        if seq == self.expected:
            return "ok"
        first, last = self.expected, seq - 1
        self.flush_run()
        which = f"entry {first} is" if first == last else f"entries {first}..{last} are"
        if self.count == 1 and self.first_seq == 1:
            self.problem(first, f"{which} missing (the log starts at {seq})")
        else:
            self.problem(first, f"{which} missing (gap between {first - 1} and {seq})")
        return "gap"

    def broken_link(self, row: StoredRow) -> None:
        seq, prev = row.seq, self.prev_seq
        if prev < self.first_seq:
            self.problem(
                seq,
                f"chain broken at entry {seq}: its prev_hash is not the hash it "
                f"should follow (entry {seq} was replaced)",
            )
            return
        follows = self.recent.get(row.prev_hash) if isinstance(row.prev_hash, str) else None
        if follows is not None and follows < prev:
            self.problem(
                seq,
                f"chain broken at entry {seq}: it follows entry {follows}, not "
                f"entry {prev} (entries {follows + 1}..{prev} were inserted or "
                "replaced)",
            )
        else:
            self.problem(
                seq,
                f"chain broken at entry {seq}: its prev_hash is not the hash of "
                f"entry {prev} (entry {prev} was replaced, or entry {seq} forged)",
            )

    def finish(self) -> tuple[list[tuple[int, str]], int]:
        self.flush_run(at_end=True)
        for seq, message in self.unresolved.items():
            self.problem(seq, message)
        self.unresolved.clear()
        return sorted(self.records, key=lambda r: r[0]), self.total_problems


def _run_scan(
    conn: sa.Connection,
    *,
    first: int,
    last: int | None,
    prev_hash: str,
    witnessed: SignedTreeHead | None,
    key: bytes | None,
    chunk_size: int,
    max_problems: int,
) -> AuditReport:
    check_chunk_size(chunk_size)
    witness_ok = witnessed is None or is_well_formed(witnessed)
    scanner = _Scanner(
        first_seq=first,
        prev_hash=prev_hash,
        max_problems=max_problems,
        witnessed_size=witnessed.size if witnessed is not None and witness_ok else None,
    )
    for row in stream_rows(
        conn, after=first - 1 if first > 1 else None, last=last, chunk_size=chunk_size
    ):
        scanner.add(row)
    if last is not None and scanner.expected <= last:
        start = scanner.expected
        which = f"entry {start} is" if start == last else f"entries {start}..{last} are"
        scanner.problem(start, f"{which} missing (the range ends at {last})")
    records, total = scanner.finish()
    problems = [message for _, message in records]
    if witnessed is not None and not witness_ok:
        problems.append("the witnessed tree head is malformed")
        total += 1
    elif witnessed is not None:
        problems.extend(_witness_problems(scanner, witnessed, key))
        total += len(problems) - len(records)
    if total > len(problems):
        problems.append(f"… and {total - len(problems)} more problems not listed")
    head = scanner.prev_stored if scanner.count else prev_hash
    return AuditReport(
        entries=scanner.count,
        ok=total == 0,
        problems=problems,
        head_hash=head if isinstance(head, str) else repr(head),
        root=scanner.builder.root().hex(),
    )


def _witness_problems(scanner: _Scanner, witnessed: SignedTreeHead, key: bytes | None) -> list[str]:
    out: list[str] = []
    if key is not None and not verify_tree_head(witnessed, key):
        out.append("the witnessed tree head's signature is invalid")
    if scanner.count < witnessed.size:
        out.append(
            f"chain truncated: the witnessed head has {witnessed.size} entries, "
            f"the log has {scanner.count}"
        )
    elif scanner.witnessed_root is None or not hmac.compare_digest(
        scanner.witnessed_root.hex(), witnessed.root.lower()
    ):
        out.append(
            f"the first {witnessed.size} entries do not match the witnessed tree head "
            "(the Merkle root differs: entries were rewritten)"
        )
    return out


def verify_chain(
    conn: sa.Connection,
    *,
    witnessed: SignedTreeHead | None = None,
    key: bytes | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_problems: int = MAX_PROBLEMS,
) -> AuditReport:
    """
    Verify the whole audit log; never raises on tampering, reports it.

    Streams the entries in seq order, ``chunk_size`` rows per query (constant memory), and
    recomputes every hash from the stored bytes. Detects a change to any byte of any column,
    missing entries (gaps in seq), entries moved to another seq (reordering, insertion with
    renumbering), and entries replaced by self-consistent forgeries that do not link.

    With ``witnessed`` (a head kept outside the database, see
    :func:`~charter.gate.journal.treehead.read_witness`) it also
    detects a truncated log and a log whose first ``witnessed.size`` entries were rewritten
    (the Merkle root differs). Pass ``key`` to check the head's signature too; without it
    the head is trusted as given.

    Args:
        conn: any connection; for a consistent view of a busy log, use one transaction.
        witnessed: the last externally witnessed signed tree head, if any.
        key: the HMAC key the head was signed with.
        chunk_size: rows per query.
        max_problems: at most this many problems are listed; the rest are counted.

    Returns:
        An :class:`AuditReport`; ``ok`` is ``True`` only when nothing was found.
    """
    return _run_scan(
        conn,
        first=1,
        last=None,
        prev_hash=GENESIS,
        witnessed=witnessed,
        key=key,
        chunk_size=chunk_size,
        max_problems=max_problems,
    )


def verify_range(
    conn: sa.Connection,
    first: int,
    last: int,
    *,
    prev_hash: str,
    chunk_size: int = CHUNK_SIZE,
    max_problems: int = MAX_PROBLEMS,
) -> AuditReport:
    """
    Verify entries ``first..last`` given the hash of entry ``first - 1``.

    The same checks as :func:`verify_chain` restricted to the range: every entry's hash is
    recomputed, entry ``first`` must link to ``prev_hash`` (use
    :data:`~charter.gate.journal.chain.GENESIS` for ``first == 1``) and every seq of the range
    must be present. Use it to re-check a window quickly when ``prev_hash`` comes from a
    trusted source (an earlier full verification).

    Raises:
        InputError: ``first < 1`` or ``last < first``.
    """
    if first < 1 or last < first:
        raise InputError(f"no entries in the range {first}..{last}", field="first")
    return _run_scan(
        conn,
        first=first,
        last=last,
        prev_hash=prev_hash,
        witnessed=None,
        key=None,
        chunk_size=chunk_size,
        max_problems=max_problems,
    )
