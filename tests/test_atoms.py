"""Atoms: immutability, hashing, printing, alpha-equality, depth."""

from __future__ import annotations

import pytest
from hypothesis import given
from strategies import atoms

from mettadb import E, S, V, alpha_equal
from mettadb.atoms import Bool, Expression, Float, Integer, String, Symbol, Variable, format_float


def test_printing_is_metta():
    a = E(S("parent"), S("Tom"), V("x"), 42, 0.5, "a \"q\"\n", True, E())
    assert str(a) == '(parent Tom $x 42 0.5 "a \\"q\\"\\n" True ())'


def test_floats_print_like_hyperon():
    assert [format_float(f) for f in (3.0, 1e20, 1.5e-7, 0.1, -1500.0, 1e16, 1e15)] == [
        "3.0", "1e20", "1.5e-7", "0.1", "-1500.0", "1e16", "1000000000000000.0"]


def test_immutable_and_hashable():
    a = E(S("f"), V("x"))
    with pytest.raises(AttributeError):
        a.children = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        S("x").name = "y"  # type: ignore[misc]
    assert len({a, E(S("f"), V("x")), E(S("f"), V("y"))}) == 2


def test_grounded_types_are_distinct():
    assert Integer(1) != Float(1.0)
    assert Integer(1) != Bool(True)
    assert String("1") != Integer(1)
    assert Symbol("x") != Variable("x")


def test_alpha_equal():
    assert alpha_equal(E(S("f"), V("x"), V("x")), E(S("f"), V("y"), V("y")))
    assert not alpha_equal(E(S("f"), V("x"), V("y")), E(S("f"), V("y"), V("y")))
    assert not alpha_equal(E(S("f"), V("x"), V("x")), E(S("f"), V("x"), V("y")))


def test_to_python():
    assert E(S("a"), 1, (2.5, "s"), True).to_python() == ("a", 1, (2.5, "s"), True)


def test_deep_atoms_do_not_recurse():
    depth = 100_000
    a: Expression = E(S("leaf"))
    b: Expression = E(S("leaf"))
    for _ in range(depth):
        a = E(S("n"), a)
        b = E(S("n"), b)
    assert a == b and hash(a) == hash(b)
    text = str(a)
    assert text.startswith("(n (n ") and text.count("(") == depth + 1
    assert alpha_equal(a, b)
    assert a.is_ground


@given(atoms())
def test_alpha_equal_reflexive_and_hash_consistent(a):
    assert alpha_equal(a, a)
    assert a == a and hash(a) == hash(a)
