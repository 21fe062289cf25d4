"""MORK byte paths: test vectors, the extension, round trips and byte order."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import atoms

from mettadb import DecodeError, E, S, V, alpha_equal, decode, encode
from mettadb.atoms import Bool, Expression, Float, Integer, String, Symbol, Variable, rebuild
from mettadb.encoding import check_path, split_tokens
from mettadb.keys import const_prefix


def h(b: bytes) -> str:
    return b.hex(" ").upper()


def test_mork_test_vectors():
    assert h(encode(E(S("parent"), S("Tom"), S("Bob")))) == "03 C6 70 61 72 65 6E 74 C3 54 6F 6D C3 42 6F 62"
    rule = E(S("="), E(S("f"), V("x")), E(S("g"), V("x"), V("y"), V("x")))
    assert h(encode(rule)) == "03 C1 3D 02 C1 66 C0 04 C1 67 80 C0 80"


def test_variable_names_are_dropped_but_kept_apart():
    assert encode(E(S("f"), V("a"), V("b"))) == encode(E(S("f"), V("x"), V("y")))
    assert encode(E(S("f"), V("a"), V("a"))) != encode(E(S("f"), V("a"), V("b")))


def test_grounded_values_keep_their_type():
    for a in (Integer(42), String("42"), Float(42.0), Bool(True), Symbol("True0"), String(""), Integer(-7)):
        assert decode(encode(a)) == a
        assert type(decode(encode(a))) is type(a)
    assert encode(Integer(42)) == b"\xc242"
    assert encode(String("42")) == b'\xc4"42"'


def test_symbols_that_look_like_literals_are_escaped():
    for name in ("42", "1.5", "True", '"x"', "$x"):
        a = Symbol(name)
        assert type(decode(encode(a))) is Symbol and decode(encode(a)) == a


def test_extension_long_symbols_wide_expressions_many_variables():
    long_sym = Symbol("s" * 300)
    assert decode(encode(long_sym)) == long_sym
    assert encode(long_sym)[0] == 0x40
    wide = Expression([Symbol(f"a{i}") for i in range(200)])
    assert decode(encode(wide)) == wide and encode(wide)[0] == 0x42
    many = Expression([Variable(f"v{i}") for i in range(100)] + [Variable(f"v{i}") for i in range(100)])
    assert alpha_equal(decode(encode(many)), many)
    assert 0x43 in encode(many)  # a reference past the 64th variable
    assert decode(encode(Float(float("inf")))) == Float(float("inf"))
    nan = decode(encode(Float(float("nan"))))
    assert isinstance(nan, Float) and nan.value != nan.value


def test_decode_rejects_garbage_clearly():
    for bad in (b"", b"\x02\xc1a", b"\xc5ab", b"\x81", b"\x01\xc1a\xc1b", b"\x7f", b"\xc1\xff"):
        with pytest.raises(DecodeError):
            decode(bad)


@given(st.binary(max_size=40))
def test_decode_never_crashes(data):
    try:
        a = decode(data)
    except DecodeError:
        return
    assert alpha_equal(decode(encode(a)), a)


@given(atoms())
def test_decode_encode_round_trip(a):
    path = encode(a)
    assert alpha_equal(decode(path), a)
    assert encode(decode(path)) == path


@given(atoms(), atoms())
def test_encoding_is_alpha_canonical(a, b):
    assert (encode(a) == encode(b)) == alpha_equal(a, b)


def _nodes(a):
    """Independent of the encoder: the atom's nodes in prefix order, each as a comparable tuple.

    Ranks follow the MORK tag ranges: expression (arity), reference to the k-th variable,
    first occurrence of a variable, then a symbol or literal by byte length and bytes of its text.
    """
    out = []
    seen: dict = {}
    stack = [a]
    while stack:
        x = stack.pop()
        if type(x) is Expression:
            out.append((0, len(x.children)))
            stack.extend(reversed(x.children))
        elif type(x) is Variable:
            if x in seen:
                out.append((1, seen[x]))
            else:
                seen[x] = len(seen)
                out.append((2, 0))
        else:
            text = (x.name if type(x) is Symbol else str(x)).encode()
            out.append((3, len(text), text))
    return out


# atoms inside the core MORK tags (no extension tag): short symbols, integers, a few variables, arity < 64
core_leaves = st.one_of(
    st.sampled_from(["a", "b", "ab", "ba", "parent", "Tom", "=", "é", "日本"]).map(Symbol),
    st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=70)
    .filter(lambda t: len(t) < 64).map(Symbol),
    st.integers(-1000, 10**30).map(Integer),
    st.sampled_from(["x", "y", "z"]).map(Variable),
    st.sampled_from(["x", "y", "z"]).map(Variable),
)
core_atoms = st.recursive(core_leaves, lambda c: st.lists(c, max_size=5).map(Expression), max_leaves=10)


@example(E(S("f"), V("x"), V("y"), V("y")), E(S("f"), V("x"), V("y"), V("x")))
@example(E(S("f"), S("ab")), E(S("f"), S("b")))
@given(core_atoms, core_atoms)
def test_byte_order_is_the_order_of_prefix_order_nodes(a, b):
    """Comparing keys as bytes compares atoms node by node in prefix order (the order MORK's trie walks)."""
    ka, kb = encode(a), encode(b)
    na, nb = _nodes(a), _nodes(b)
    assert (ka < kb) == (na < nb)
    assert (ka == kb) == (na == nb)


@given(st.lists(core_atoms, min_size=1, max_size=10), core_atoms)
def test_constant_prefix_selects_exactly_the_atoms_that_agree_before_the_first_variable(stored, pattern):
    """The atoms whose key starts with a pattern's constant prefix are exactly those whose first nodes
    equal the pattern's nodes up to its first variable, and they form one run in key order."""
    prefix, ntok = const_prefix(split_tokens(encode(pattern)))
    pn = _nodes(pattern)
    k = next((i for i, n in enumerate(pn) if n[0] in (1, 2)), len(pn))
    assert ntok == k  # core atoms are far below the key-size cap
    instance = rebuild(pattern, lambda x: Symbol("a") if type(x) is Variable else x, lambda _e, kids: Expression(kids))
    keys = sorted({encode(a): a for a in [*stored, instance]}.items())
    selected = [i for i, (key, _) in enumerate(keys) if key.startswith(prefix)]
    expected = [i for i, (_, a) in enumerate(keys) if _nodes(a)[:k] == pn[:k]]
    assert selected == expected and selected  # the pattern's own instance is always selected
    assert selected == list(range(selected[0], selected[-1] + 1))


def test_deep_atom_encodes_without_recursion():
    a: Expression = E(S("leaf"))
    for _ in range(100_000):
        a = E(S("n"), a)
    p = encode(a)
    assert len(p) == 100_000 * 3 + 6
    assert decode(p) == a


def _decode_outcome(path):
    try:
        a = decode(path)
    except DecodeError:
        return None
    return len({v for v in _walk(a) if type(v) is Variable})


def _walk(a):
    stack = [a]
    while stack:
        x = stack.pop()
        yield x
        if type(x) is Expression:
            stack.extend(x.children)


@given(st.one_of(st.binary(max_size=40),
                 st.builds(lambda a, cut, junk: encode(a)[:cut] + junk, atoms(), st.integers(0, 60), st.binary(max_size=3))))
def test_check_path_agrees_with_decode(path):
    """The import validator rejects exactly what decode rejects, and counts the same variables."""
    expected = _decode_outcome(path)
    if expected is None:
        with pytest.raises(DecodeError):
            check_path(path)
    else:
        assert check_path(path) == expected


@given(atoms())
def test_check_path_accepts_every_encoded_atom(a):
    assert check_path(encode(a)) == _decode_outcome(encode(a))
