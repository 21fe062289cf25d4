"""MORK byte paths: test vectors, the extension, round trips and byte order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms

from mettadb import DecodeError, E, S, V, alpha_equal, decode, encode
from mettadb.atoms import Bool, Expression, Float, Integer, String, Symbol, Variable
from mettadb.encoding import check_path, checked_tokens, split_tokens
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


@given(st.lists(atoms(8), min_size=2, max_size=8))
def test_byte_order_groups_constant_prefixes(items):
    """Sorted keys put every atom sharing a pattern's constant prefix in one contiguous run."""
    keys = sorted({encode(a) for a in items})
    for k in keys:
        prefix, _ = const_prefix(split_tokens(k))
        run = [i for i, other in enumerate(keys) if other.startswith(prefix)]
        assert run == list(range(run[0], run[-1] + 1))
    assert sorted(keys) == sorted(reversed(keys))  # deterministic total order


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


_FLAT_SYMBOLS = st.lists(st.sampled_from([b"\xc1a", b"\xc3abc", b"\xc142", b"\xc2$x", b'\xc2"a', b"\xc1\xff",
                                          b"\xc4True", b"\xc0", b"\x81", b"\x02\xc1f\xc1g"]), min_size=0, max_size=6)


@given(st.one_of(
    st.builds(lambda toks, off, junk: bytes((max(0, len(toks) + off),)) + b"".join(toks) + junk, _FLAT_SYMBOLS,
              st.sampled_from([0, 0, 0, 1, -1]), st.sampled_from([b"", b"", b"\xc1", b"x"])),
    st.builds(lambda a, cut: encode(a)[:cut], atoms(), st.integers(1, 60))))
def test_checked_tokens_agrees_with_check_path_and_split_tokens(path):
    """The import and check fast path: flat symbol paths by regex, with symbols checked once."""
    seen: set[bytes] = set()
    expected = _decode_outcome(path)
    for _ in range(2):  # the second time every symbol of the path has been seen
        if expected is None:
            with pytest.raises(DecodeError):
                checked_tokens(path, seen)
            continue
        nvars, tokens = checked_tokens(path, seen)
        assert nvars == expected
        toks = split_tokens(path)
        reversible = not nvars and len(toks) > 3 and 3 <= toks[0][0] < 64 and toks[1][0] > 0xC0
        assert tokens == (toks if reversible else None)
