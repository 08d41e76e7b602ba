"""
RFC 6962 Merkle trees (T6): published test vectors, an independent reference
implementation, and proofs that must fail once mutated.

The vectors are Certificate Transparency's reference test data (certificate-transparency
``merkle_tree_test.cc``, also in Trillian's ``log_verifier_test.go``). The reference
implementation below is the RFC's recursive definitions transcribed literally; the code
under test is iterative and streaming, so agreement between the two is meaningful.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.gate.journal import merkle

CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# (leaf index, tree size, proof): CT's inclusion proof vectors.
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]

# (old size, new size, proof): CT's consistency proof vectors.
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# -- reference implementation: RFC 6962 section 2.1, recursive, straight from the text ------


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256().digest()
    if n == 1:
        return hashlib.sha256(bytes([0]) + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(bytes([1]) + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_shape(m: int, n: int) -> list[str]:
    """Which side each audit path element is on (L: left sibling, R: right sibling)."""
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_shape(m, k), "R"]
    return [*ref_shape(m - k, n - k), "L"]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def leaves_for(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() * (i % 3 + 1) for i in range(n)]


def h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


# -- vectors ---------------------------------------------------------------------------------


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert merkle.root([]).hex() == EMPTY == merkle.EMPTY_ROOT.hex()
    assert merkle.RootBuilder().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_ct_vectors(size: int) -> None:
    assert merkle.root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]
    assert ref_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_leaf_and_node_hash_domain_separation() -> None:
    assert merkle.leaf_hash(b"").hex() == CT_ROOTS[0]
    left, right = merkle.leaf_hash(b""), merkle.leaf_hash(b"\x00")
    assert merkle.node_hash(left, right).hex() == CT_ROOTS[1]
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_inclusion_matches_ct_vectors(index: int, size: int, proof: list[str]) -> None:
    leaves = CT_LEAVES[:size]
    assert [p.hex() for p in merkle.inclusion_proof(index, leaves)] == proof
    root = bytes.fromhex(CT_ROOTS[size - 1])
    assert merkle.verify_inclusion(leaves[index], index, size, h(proof), root)


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_consistency_matches_ct_vectors(old: int, new: int, proof: list[str]) -> None:
    assert [p.hex() for p in merkle.consistency_proof(old, CT_LEAVES[:new])] == proof
    old_root, new_root = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    assert merkle.verify_consistency(old, new, old_root, new_root, h(proof))


# -- agreement with the reference --------------------------------------------------------------


@given(st.lists(st.binary(max_size=40), max_size=70))
def test_root_equals_reference(leaves: list[bytes]) -> None:
    assert merkle.root(leaves) == ref_mth(leaves)


@pytest.mark.parametrize("size", [37, 64, 300])
def test_inclusion_every_leaf_at_three_sizes(size: int) -> None:
    leaves = leaves_for(size)
    root = ref_mth(leaves)
    reference_check = size <= 64  # the recursive reference is quadratic; spot-check above
    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        if reference_check or index % 37 == 0:
            assert proof == ref_path(index, leaves)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, root)


def test_consistency_between_all_checkpoints_up_to_40() -> None:
    leaves = leaves_for(40)
    roots = [ref_mth(leaves[:n]) for n in range(41)]
    for new in range(41):
        for old in range(new + 1):
            proof = merkle.consistency_proof(old, leaves[:new])
            if 0 < old < new:
                assert proof == ref_proof(old, leaves[:new])
            else:
                assert proof == []
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof), (old, new)


def test_proof_ranges_stream_in_one_pass() -> None:
    leaves = leaves_for(23)
    hashes = [merkle.leaf_hash(d) for d in leaves]
    consumed: list[int] = []

    def stream() -> Iterator[bytes]:
        for i, x in enumerate(hashes):
            consumed.append(i)
            yield x

    ranges = merkle.inclusion_ranges(4, 16)
    assert merkle.subtree_roots(ranges, stream()) == ref_path(4, leaves[:16])
    assert len(consumed) == 16  # stops at the end of the last range
    with pytest.raises(ValueError, match="fewer leaves"):
        merkle.subtree_roots([(0, 30)], iter(hashes))
    with pytest.raises(ValueError, match="disjoint"):
        merkle.subtree_roots([(0, 4), (2, 6)], iter(hashes))


def test_impossible_arguments_raise_value_error() -> None:
    leaves = leaves_for(5)
    for index in (-1, 5, 6):
        with pytest.raises(ValueError, match="not in a tree"):
            merkle.inclusion_proof(index, leaves)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(6, leaves)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(-1, leaves)


# -- mutated proofs ------------------------------------------------------------------------------


def flipped(proof: list[bytes]) -> list[list[bytes]]:
    """Every proof obtained by flipping one bit of one byte (each byte, one bit rotating)."""
    out = []
    for i, element in enumerate(proof):
        for j in range(len(element)):
            changed = bytearray(element)
            changed[j] ^= 1 << (j % 8)
            out.append([*proof[:i], bytes(changed), *proof[i + 1 :]])
    return out


def structural(proof: list[bytes], root: bytes) -> list[list[bytes]]:
    """Proofs with an element dropped, added, duplicated or swapped."""
    out = [[*proof, root], [root, *proof], [*proof, merkle.EMPTY_ROOT], [merkle.EMPTY_ROOT, *proof]]
    for i in range(len(proof)):
        out.append(proof[:i] + proof[i + 1 :])
        out.append([*proof[: i + 1], proof[i], *proof[i + 1 :]])
        out.append([*proof[:i], merkle.EMPTY_ROOT, *proof[i + 1 :]])
    for i in range(len(proof) - 1):
        swapped = list(proof)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        if swapped != proof:
            out.append(swapped)
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 32, 33])
def test_mutated_inclusion_proofs_are_rejected(size: int) -> None:
    leaves = leaves_for(size)
    root = merkle.root(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        leaf = leaves[index]
        assert merkle.verify_inclusion(leaf, index, size, proof, root)
        for bad in flipped(proof) + structural(proof, root):
            assert not merkle.verify_inclusion(leaf, index, size, bad, root)
        for other in {index - 1, index + 1, index ^ 2, index ^ 1, -1, size, size + 1}:
            if other != index:
                assert not merkle.verify_inclusion(leaf, other, size, proof, root)
        for other_size in {size - 1, size + 1, size * 2, size // 2, 0, -1}:
            # The proof verifies for another size only if that tree has the same path shape
            # (e.g. leaf 0 of 5 and of 8: three right siblings); never otherwise.
            same_shape = other_size > index and ref_shape(index, other_size) == ref_shape(
                index, size
            )
            assert merkle.verify_inclusion(leaf, index, other_size, proof, root) == same_shape
        assert not merkle.verify_inclusion(leaf + b"x", index, size, proof, root)
        assert not merkle.verify_inclusion(leaf, index, size, proof, merkle.EMPTY_ROOT)
        assert not merkle.verify_inclusion(leaf, index, size, proof, root[:-1])


def test_inclusion_rejects_malformed_input_without_raising() -> None:
    leaves = leaves_for(6)
    root = merkle.root(leaves)
    proof = merkle.inclusion_proof(2, leaves)
    bad_inputs: list[tuple[object, ...]] = [
        (leaves[2], 2, 6, [*proof[:-1], proof[-1][:31]], root),  # short element
        (leaves[2], 2, 6, [*proof[:-1], proof[-1] + b"\x00"], root),  # long element
        (leaves[2], 2, 6, [p.hex() for p in proof], root),  # hex instead of bytes
        (leaves[2], 2, 6, b"".join(proof), root),  # not a list
        (leaves[2], 2, 6, None, root),
        (leaves[2], 2.0, 6, proof, root),
        (leaves[2], True, 6, proof, root),
        (leaves[2], 2, "6", proof, root),
        (leaves[2], 2, 6, proof, root.hex()),
        ("leaf", 2, 6, proof, root),
        (leaves[2], 0, 0, [], merkle.EMPTY_ROOT),
        (leaves[2], 1, 0, [], merkle.EMPTY_ROOT),
        (leaves[2], 2, 1, [], root),
        (leaves[2], 2**70, 2**71, proof, root),
    ]
    for args in bad_inputs:
        assert merkle.verify_inclusion(*args) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("new", [2, 3, 7, 8, 9, 16, 21])
def test_mutated_consistency_proofs_are_rejected(new: int) -> None:
    leaves = leaves_for(new)
    roots = [merkle.root(leaves[:n]) for n in range(new + 1)]
    for old in range(1, new):
        proof = merkle.consistency_proof(old, leaves)
        assert merkle.verify_consistency(old, new, roots[old], roots[new], proof)
        for bad in flipped(proof) + structural(proof, roots[new]) + [[]]:
            assert not merkle.verify_consistency(old, new, roots[old], roots[new], bad)
        for other in {old - 1, old + 1, old ^ 2, 0, new + 1, -1}:
            if other != old:
                assert not merkle.verify_consistency(other, new, roots[old], roots[new], proof)
        # A proof binds the sizes only up to the shape of its path (1 -> 3 and 1 -> 4 have
        # the same shape); the sizes themselves are bound by the signed tree heads. Sizes
        # that change the shape, as in Trillian's verifier tests, must fail.
        for other in {new * 2, new // 2, old - 1, -1}:
            if other != new:
                assert not merkle.verify_consistency(old, other, roots[old], roots[new], proof)
        assert not merkle.verify_consistency(old, new, roots[new], roots[old], proof)
        assert not merkle.verify_consistency(old, new, roots[old - 1], roots[new], proof)
        assert not merkle.verify_consistency(old, new, roots[old], roots[new - 1], proof)
        assert not merkle.verify_consistency(old, new, roots[old][:16], roots[new], proof)


def test_trivial_consistency_cases() -> None:
    leaves = leaves_for(5)
    r5, r3 = merkle.root(leaves), merkle.root(leaves[:3])
    assert merkle.verify_consistency(5, 5, r5, r5, [])
    assert not merkle.verify_consistency(5, 5, r5, r3, [])
    assert not merkle.verify_consistency(5, 5, r5, r5, [r5])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r5, [])
    assert not merkle.verify_consistency(0, 5, r3, r5, [])
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r5, [r5])
    assert merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    assert not merkle.verify_consistency(5, 3, r5, r3, [])  # time travel
    assert not merkle.verify_consistency(3, 5, r3, r5, [])  # empty proof
    assert not merkle.verify_consistency(3, 5, r3, r5, None)  # type: ignore[arg-type]
    assert not merkle.verify_consistency(3, 5, r3.hex(), r5, [])  # type: ignore[arg-type]


@given(st.data())
def test_random_proofs_verify_and_random_garbage_does_not(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 80), label="n")
    leaves = leaves_for(n)
    index = data.draw(st.integers(0, n - 1), label="index")
    old = data.draw(st.integers(1, n), label="old")
    root = merkle.root(leaves)
    assert merkle.verify_inclusion(
        leaves[index], index, n, merkle.inclusion_proof(index, leaves), root
    )
    proof = merkle.consistency_proof(old, leaves)
    assert merkle.verify_consistency(old, n, merkle.root(leaves[:old]), root, proof)
    garbage = data.draw(st.lists(st.binary(min_size=32, max_size=32), max_size=8), label="garbage")
    assert not merkle.verify_inclusion(leaves[index], index, n, garbage, root) or garbage == (
        merkle.inclusion_proof(index, leaves)
    )


def test_root_builder_matches_reference_for_every_size_up_to_130() -> None:
    rng = random.Random(6962)
    leaves = [rng.randbytes(rng.randrange(0, 9)) for _ in range(130)]
    builder = merkle.RootBuilder()
    for n, data in enumerate(leaves, start=1):
        builder.add(merkle.leaf_hash(data))
        assert builder.size == n
        assert builder.root() == ref_mth(leaves[:n])
