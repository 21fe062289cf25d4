"""Keys: paths over 494 bytes are hashed, constant prefixes, reverse-index keys, head buckets."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms, ground_atoms

import mettadb
from mettadb import E, S, V, encode
from mettadb.atoms import Expression, Symbol, Variable, rebuild
from mettadb.encoding import split_tokens
from mettadb.keys import (
    HASHED_LEN,
    MAX_PLAIN,
    const_prefix,
    head_key,
    is_hashed,
    path_head_key,
    reverse_key,
    storage_key,
    unreverse_key,
)


def is_var_token(t: bytes) -> bool:
    """A new variable (0xC0), a reference (0x80-0xBF) or an extension reference (0x43)."""
    return 0x80 <= t[0] <= 0xC0 or t[0] == 0x43


def ground_instance(a):
    return rebuild(a, lambda x: S("filled") if type(x) is Variable else x, lambda _e, kids: Expression(kids))


# ---------------------------------------------------------------- hashed keys


def test_paths_up_to_494_bytes_are_their_own_key():
    assert MAX_PLAIN == 494 and HASHED_LEN == 510
    for n in (1, 100, MAX_PLAIN):
        path = b"\x01" * n
        assert storage_key(path) == path and not is_hashed(path)


def test_longer_paths_are_cut_and_followed_by_a_blake2b_digest():
    for n in (MAX_PLAIN + 1, 600, 5000):
        path = bytes(range(256)) * (n // 256) + bytes(n % 256)
        key = storage_key(path)
        assert len(key) == HASHED_LEN and is_hashed(key)
        assert key[:MAX_PLAIN] == path[:MAX_PLAIN]
        assert key[MAX_PLAIN:] == hashlib.blake2b(path, digest_size=16).digest()


def test_long_paths_sharing_their_first_494_bytes_get_different_keys():
    a = encode(E(S("long"), S("x" * 600), S("a")))
    b = encode(E(S("long"), S("x" * 600), S("b")))
    assert a[:MAX_PLAIN] == b[:MAX_PLAIN] and a != b
    assert storage_key(a) != storage_key(b) and storage_key(a)[:MAX_PLAIN] == storage_key(b)[:MAX_PLAIN]


def test_atoms_with_hashed_keys_in_a_space(space):
    """Atoms whose paths share a 494-byte prefix are kept apart, found, counted, matched and removed."""
    long = "y" * 600
    space.add_all([f"(long {long} {i})" for i in range(5)] + [f"(long {long} 0)", "(short 1)"])
    assert len(space) == 7 and space.distinct == 6
    assert space.count(f"(long {long} 0)") == 2 and space.count(f"(long {long} 1)") == 1
    assert space.count(f"(long {long} 9)") == 0
    assert sorted(str(a) for a in space.match(f"(long {long} $i)", "$i")) == ["0", "0", "1", "2", "3", "4"]
    assert [str(a) for a in space.match("(long $s 3)", "$s")] == [long]
    assert space.remove(f"(long {long} 3)") and space.count(f"(long {long} 3)") == 0
    assert space.check() == []
    assert sorted(str(a) for a in space.match(f"(long {long} $i)", "$i")) == ["0", "0", "1", "2", "4"]


# ---------------------------------------------------------------- constant prefixes


@given(atoms())
def test_const_prefix_is_every_token_before_the_first_variable(a):
    toks = split_tokens(encode(a))
    prefix, n = const_prefix(toks)
    assert prefix == b"".join(toks[:n]) and len(prefix) <= MAX_PLAIN
    assert not any(is_var_token(t) for t in toks[:n])
    assert n == len(toks) or is_var_token(toks[n]) or len(prefix) + len(toks[n]) > MAX_PLAIN
    # every ground instance of the atom starts with it: a scan over it finds all candidates
    assert encode(ground_instance(a)).startswith(prefix)


@given(atoms(), st.integers(0, 40))
def test_const_prefix_respects_the_byte_limit(a, limit):
    toks = split_tokens(encode(a))
    prefix, n = const_prefix(toks, limit)
    assert len(prefix) <= limit and prefix == b"".join(toks[:n])
    assert n == len(toks) or is_var_token(toks[n]) or len(prefix) + len(toks[n]) > limit


def test_const_prefix_examples():
    toks = split_tokens(encode(E(S("parent"), S("Tom"), V("x"), S("Bob"))))
    assert const_prefix(toks) == (b"\x04\xc6parent\xc3Tom", 3)
    assert const_prefix(split_tokens(encode(V("x")))) == (b"", 0)
    assert const_prefix(toks, 8) == (b"\x04\xc6parent", 2)


# ---------------------------------------------------------------- reverse keys


reversible = st.builds(lambda h, args: Expression([h, *args]), st.sampled_from([S("parent"), S("age"), S("=")]),
                       st.lists(ground_atoms(4), min_size=2, max_size=5))


@given(reversible)
def test_reverse_keys_round_trip(a):
    path = encode(a)
    toks = split_tokens(path)
    rkey = reverse_key(toks)
    assert unreverse_key(rkey) == path
    # arity and head first, then the argument tokens last to first, each token as written
    assert rkey[: len(toks[0] + toks[1])] == toks[0] + toks[1] and sorted(rkey) == sorted(path)
    if all(type(x) is not Expression for x in a.children):
        assert rkey == toks[0] + toks[1] + b"".join(encode(x) for x in reversed(a.children[1:]))


def test_reverse_key_example():
    toks = split_tokens(encode(E(S("parent"), S("Tom"), E(S("f"), S("Bob")))))
    assert reverse_key(toks) == b"\x03\xc6parent" + b"\xc3Bob" + b"\xc1f" + b"\x02" + b"\xc3Tom"


@given(reversible)
def test_a_patterns_constant_suffix_is_a_reverse_key_prefix(a):
    """`(h $x ... an)`: the reverse key of every matching atom starts with the pattern's reversed constant tokens."""
    pattern = Expression([a.children[0], V("x"), *a.children[2:]])
    ptoks = split_tokens(encode(pattern))
    rprefix, _ = const_prefix(ptoks[:2] + ptoks[:1:-1])
    assert reverse_key(split_tokens(encode(a))).startswith(rprefix)
    other = Expression([a.children[0], S("other"), *a.children[2:-1], S("different-last")])
    assert not reverse_key(split_tokens(encode(other))).startswith(rprefix)


# ---------------------------------------------------------------- head buckets


@given(atoms())
def test_path_head_key_agrees_with_head_key(a):
    path = encode(a)
    assert path_head_key(path) == head_key(split_tokens(path))


def test_head_key_examples():
    assert path_head_key(encode(E(S("parent"), S("Tom"), S("Bob")))) == b"\x03\xc6parent"
    assert path_head_key(encode(E(V("h"), S("Tom")))) == b"\x02"
    assert path_head_key(encode(S("sym"))) == b"\xc3sym"
    assert path_head_key(encode(E(E(S("f")), S("Tom")))) == b"\x02"
    assert path_head_key(encode(mettadb.Integer(42))) == b"\xc242"
    assert path_head_key(encode(Symbol("s" * 70)))[0] == 0x40
