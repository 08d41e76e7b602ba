"""
Merkle trees as defined by RFC 6962 section 2.1 (Certificate Transparency), pure and I/O-free.

The audit log (:mod:`charter.gate.journal`) signs the root of this tree over its entries'
hashes, so an auditor who keeps an old signed tree head can later check that the log only
grew (*consistency*) and that a given entry is in it (*inclusion*), using the same hashing
as every CT log verifier:

* ``leaf_hash(d)   = SHA-256(0x00 || d)``
* ``node_hash(l, r) = SHA-256(0x01 || l || r)``
* ``root([])       = SHA-256(b"")`` and, for ``n > 1`` leaves, the tree splits at the
  largest power of two smaller than ``n`` (MTH in RFC 6962 section 2.1).

Proofs are generated as in RFC 6962 sections 2.1.1 and 2.1.2 and verified with the
algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 (which work on RFC 6962 trees).

Every proof element is the root of a subtree over a contiguous range of leaves;
:func:`inclusion_ranges` and :func:`consistency_ranges` name those ranges and
:func:`subtree_roots` computes them in one streaming pass over the leaf hashes, so a
database-backed log can produce proofs in constant memory. :class:`RootBuilder` computes a
root incrementally, holding at most one hash per level.

Verification functions never raise on bad input: a malformed, truncated, padded or
out-of-range proof, root or size gives ``False``. Proof *generation* raises
:class:`ValueError` for impossible arguments (an index outside the tree, ``m > n``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_BYTES",
    "RootBuilder",
    "consistency_proof",
    "consistency_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_leaf_hashes",
    "subtree_roots",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_hash",
]

HASH_BYTES = 32
"""Size of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree, ``SHA-256(b"")``."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """
    Hash a leaf: ``SHA-256(0x00 || data)``.

    Args:
        data: the leaf's input bytes (for the audit log: an entry's 32-byte hash).

    Returns:
        The 32-byte leaf hash.
    """
    return hashlib.sha256(_LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """
    Hash an interior node: ``SHA-256(0x01 || left || right)``.

    Returns:
        The 32-byte node hash.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class RootBuilder:
    """
    Compute a Merkle tree root incrementally from leaf hashes, in O(log n) memory.

    RFC 6962 trees are left-complete: the first ``2**k`` leaves form a perfect subtree. The
    builder keeps the roots of the perfect subtrees seen so far (sizes strictly decreasing
    powers of two, like the binary digits of the leaf count), merges equal neighbours as
    leaves arrive, and folds them right to left at the end.

    Example::

        builder = RootBuilder()
        for data in leaves:
            builder.add(leaf_hash(data))
        assert builder.root() == root(leaves)
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self._size = 0

    @property
    def size(self) -> int:
        """How many leaves were added."""
        return self._size

    def add(self, leaf: bytes) -> None:
        """Append a leaf *hash* (already passed through :func:`leaf_hash`)."""
        stack = self._stack
        stack.append((1, leaf))
        self._size += 1
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            size, right = stack.pop()
            _, left = stack.pop()
            stack.append((size * 2, node_hash(left, right)))

    def root(self) -> bytes:
        """The root of the leaves added so far (``EMPTY_ROOT`` if none); does not reset."""
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            result = node_hash(left, result)
        return result


def root_from_leaf_hashes(leaf_hashes: Iterable[bytes]) -> bytes:
    """
    The Merkle tree root over leaves given by their leaf hashes (streams the iterable).

    Returns:
        The 32-byte root; ``EMPTY_ROOT`` for no leaves.
    """
    builder = RootBuilder()
    for leaf in leaf_hashes:
        builder.add(leaf)
    return builder.root()


def root(leaves: Sequence[bytes]) -> bytes:
    """
    The Merkle Tree Hash (MTH) of RFC 6962 section 2.1 over ``leaves`` (their input data).

    Returns:
        The 32-byte root; ``SHA-256(b"")`` for an empty list.
    """
    return root_from_leaf_hashes(leaf_hash(data) for data in leaves)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """
    The leaf ranges ``[lo, hi)`` whose subtree roots make the inclusion proof of ``index``.

    In proof order (from the leaf's sibling up to the root's other child), following
    PATH(m, D[n]) of RFC 6962 section 2.1.1.

    Raises:
        ValueError: unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo = mid
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """
    The leaf ranges whose subtree roots make the consistency proof from ``old_size`` leaves
    to ``new_size`` leaves, in proof order (PROOF(m, D[n]) of RFC 6962 section 2.1.2).

    Empty when ``old_size`` is 0 or equal to ``new_size``.

    Raises:
        ValueError: unless ``0 <= old_size <= new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    out: list[tuple[int, int]] = []
    m, lo, hi, complete = old_size, 0, new_size, True
    while m != hi - lo:
        mid = lo + _split(hi - lo)
        if m <= mid - lo:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            m -= mid - lo
            lo = mid
            complete = False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def subtree_roots(ranges: Sequence[tuple[int, int]], leaf_hashes: Iterable[bytes]) -> list[bytes]:
    """
    The subtree roots over disjoint leaf ``ranges``, in one pass over ``leaf_hashes``.

    ``leaf_hashes`` yields the tree's leaf hashes in order; it is consumed only as far as
    the last range needs, so it may be a lazy database stream.

    Returns:
        One root per range, in the order of ``ranges``.

    Raises:
        ValueError: the ranges overlap or are empty, or the leaves run out.
    """
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    results: list[bytes] = [b""] * len(ranges)
    previous_hi = 0
    for i in order:
        lo, hi = ranges[i]
        if lo < previous_hi or hi <= lo:
            raise ValueError("subtree ranges must be non-empty and disjoint")
        previous_hi = hi
    leaves: Iterator[bytes] = iter(leaf_hashes)
    position = 0
    for i in order:
        lo, hi = ranges[i]
        while position < lo:
            if next(leaves, None) is None:
                raise ValueError("fewer leaves than the ranges need")
            position += 1
        builder = RootBuilder()
        while position < hi:
            leaf = next(leaves, None)
            if leaf is None:
                raise ValueError("fewer leaves than the ranges need")
            builder.add(leaf)
            position += 1
        results[i] = builder.root()
    return results


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """
    The audit path (RFC 6962 section 2.1.1) of leaf ``index`` in the tree over ``leaves``.

    Raises:
        ValueError: unless ``0 <= index < len(leaves)``.
    """
    return subtree_roots(inclusion_ranges(index, len(leaves)), (leaf_hash(d) for d in leaves))


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """
    The consistency proof (RFC 6962 section 2.1.2) between the tree over the first
    ``old_size`` leaves and the tree over all ``leaves``.

    Raises:
        ValueError: unless ``0 <= old_size <= len(leaves)``.
    """
    ranges = consistency_ranges(old_size, len(leaves))
    return subtree_roots(ranges, (leaf_hash(d) for d in leaves))


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_BYTES


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid_proof(proof: object) -> list[bytes] | None:
    if isinstance(proof, str | bytes | bytearray) or not isinstance(proof, Sequence):
        return None
    items = list(proof)
    if not all(_is_hash(p) for p in items):
        return None
    return [bytes(p) for p in items]


def verify_inclusion_hash(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """
    Check an inclusion proof for a leaf given by its *leaf hash* (RFC 9162 section 2.1.3.2).

    Returns:
        ``True`` only if the proof shows that ``leaf`` is leaf ``index`` of the tree of
        ``size`` leaves whose root is ``root_hash``; ``False`` for anything else, including
        malformed arguments.
    """
    path = _valid_proof(proof)
    if path is None or not _is_hash(leaf) or not _is_hash(root_hash):
        return False
    if not (_is_size(index) and _is_size(size)) or index >= size:
        return False
    fn, sn = index, size - 1
    result = bytes(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(p, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(result, bytes(root_hash))


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """
    Check an inclusion proof for the leaf whose *input data* is ``leaf``.

    Same as :func:`verify_inclusion_hash` on ``leaf_hash(leaf)``. For the audit log the
    leaf data is an entry's 32-byte hash, ``bytes.fromhex(entry_hash)``.
    """
    if not isinstance(leaf, bytes | bytearray):
        return False
    return verify_inclusion_hash(leaf_hash(leaf), index, size, proof, root_hash)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """
    Check that the tree of ``new_size`` leaves (root ``new_root``) extends the tree of
    ``old_size`` leaves (root ``old_root``), per RFC 9162 section 2.1.4.2.

    Conventions for the trivial cases: equal sizes need an empty proof and equal roots; an
    old size of 0 needs an empty proof and ``old_root == EMPTY_ROOT``.

    Returns:
        ``True`` only for a valid proof; ``False`` for anything else (never raises).
    """
    path = _valid_proof(proof)
    if path is None or not _is_hash(old_root) or not _is_hash(new_root):
        return False
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    old_root, new_root = bytes(old_root), bytes(new_root)
    trivial = old_size in (0, new_size)
    if trivial or not path:
        expected = new_root if old_size == new_size else EMPTY_ROOT
        return trivial and not path and hmac.compare_digest(old_root, expected)
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_root = second_root = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_root = node_hash(c, first_root)
            second_root = node_hash(c, second_root)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second_root = node_hash(second_root, c)
        fn >>= 1
        sn >>= 1
    return (
        sn == 0
        and hmac.compare_digest(first_root, old_root)
        and hmac.compare_digest(second_root, new_root)
    )
