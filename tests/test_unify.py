"""Unification: agreement with an independent unifier, the occurs check, prior bindings, deep terms."""

from __future__ import annotations

import oracle
from hypothesis import example, given
from strategies import query_atoms

import mettadb
from mettadb import Bindings, E, S, V, alpha_equal, unify
from mettadb.atoms import Expression, Variable

EMPTY = Bindings()


def nest(depth: int, leaf):
    a = leaf
    for _ in range(depth):
        a = E(S("n"), a)
    return a


@example(E(S("f"), V("x"), V("y")), E(S("f"), V("y"), V("x")))
@example(E(S("g"), V("x"), V("x")), E(S("g"), V("y"), E(S("f"), V("y"))))
@example(V("x"), E(S("f"), V("x")))
@example(E(V("x"), V("y"), V("x")), E(V("y"), V("z"), E(V("z"))))
@given(query_atoms, query_atoms)
def test_unify_agrees_with_an_independent_unifier(a, b):
    """Both find a unifier or neither; the engine's is a unifier and is as general as the oracle's."""
    ours = unify(a, b)
    ref = oracle.unify(a, b)
    assert (ours is None) == (ref is None), (ours, ref)
    if ours is None:
        return
    ua, ub = ours.resolve(a), ours.resolve(b)
    assert ua == ub  # a unifier
    # most general unifiers are unique up to renaming
    assert alpha_equal(ua, oracle.resolve(a, ref))
    assert unify(b, a) is not None  # symmetric


@given(query_atoms, query_atoms, query_atoms)
def test_prior_bindings_are_kept_and_respected(a, b, c):
    """Unifying under earlier bindings equals unifying with the oracle under the same substitution."""
    first = unify(a, b)
    ref_first = oracle.unify(a, b)
    if first is None:
        assert ref_first is None
        return
    assert ref_first is not None
    second = unify(b, c, first)
    ref_second = oracle.unify(b, c, ref_first)
    assert (second is None) == (ref_second is None)
    if second is not None:
        assert second.resolve(a) == second.resolve(b) == second.resolve(c)
        assert alpha_equal(second.resolve(E(a, b, c)), oracle.resolve(E(a, b, c), ref_second))


def test_occurs_check():
    assert unify(V("x"), E(S("f"), V("x"))) is None
    assert unify(E(S("f"), V("x")), V("x")) is None
    assert unify(E(S("g"), V("x"), V("x")), E(S("g"), V("y"), E(S("f"), V("y")))) is None
    # through a chain of variables
    b = unify(V("x"), V("y"))
    assert b is not None
    assert unify(V("y"), E(S("h"), V("x")), b) is None
    assert unify(V("x"), V("x")) == EMPTY


def test_mismatches():
    assert unify(S("a"), S("b")) is None
    assert unify(mettadb.Integer(1), mettadb.Float(1.5)) is None
    assert unify(mettadb.Integer(1), mettadb.String("1")) is None
    assert unify(mettadb.String("a"), S("a")) is None
    assert unify(E(S("a"), S("b")), E(S("a"))) is None
    assert unify(E(), S("a")) is None
    assert unify(E(), E()) == EMPTY


def test_the_callers_variable_stays_the_representative():
    """A query variable bound to a renamed-apart stored variable resolves to the query's own variable."""
    stored = Variable("x#7")
    b = unify(E(S("likes"), V("who")), E(S("likes"), stored))
    assert b is not None and b.resolve(V("who")) == V("who") and b.resolve(stored) == V("who")


def test_deep_terms_do_not_recurse():
    depth = 20_000  # far past the interpreter's recursion limit
    a = nest(depth, V("x"))
    b = nest(depth, E(S("leaf"), S("y")))
    r = unify(a, b)
    assert r is not None and r[V("x")] == E(S("leaf"), S("y"))
    assert r.resolve(a) == b
    # two separately built deep terms, and the occurs check deep down
    assert unify(nest(depth, S("z")), nest(depth, S("z"))) == EMPTY
    assert unify(nest(depth, S("z")), nest(depth, S("w"))) is None
    assert unify(V("x"), nest(depth, V("x"))) is None
    assert unify(nest(depth, V("x")), nest(depth, E(S("n"), V("x")))) is None


def test_deep_bindings_resolve_without_recursion():
    depth = 3_000  # past the recursion limit; each unify copies the bindings, so longer chains are slow
    # $v0 -> (n $v1), $v1 -> (n $v2), ...: resolving $v0 builds a term 3 000 deep
    b = EMPTY
    for i in range(depth):
        b = unify(V(f"v{i}"), E(S("n"), V(f"v{i + 1}")), b)
        assert b is not None
    r = b.resolve(V("v0"))
    assert isinstance(r, Expression) and r == nest(depth, V(f"v{depth}"))
    assert unify(V(f"v{depth}"), V("v0"), b) is None  # the occurs check follows the whole chain


def test_numbers_unify_by_value_as_in_hyperon():
    """`(unify 2 2.0 yes no)` is `yes` in hyperon 0.2.10: grounded numbers compare by value."""
    Int, F = mettadb.Integer, mettadb.Float
    assert unify(Int(2), F(2.0)) == EMPTY and unify(F(2.0), Int(2)) == EMPTY
    assert unify(F(0.0), F(-0.0)) == EMPTY and unify(Int(0), F(-0.0)) == EMPTY
    assert unify(Int(9007199254740993), F(9007199254740992.0)) == EMPTY  # promoted to float, as in hyperon
    assert unify(Int(9007199254740993), Int(9007199254740992)) is None
    assert unify(Int(10**400), F(1e308)) is None  # past a float's range: no overflow, no match
    nan = F(float("nan"))
    assert unify(nan, nan) is None and unify(nan, F(float("nan"))) is None  # NaN equals nothing
    # a repeated variable: the first binding wins, the second number is compared by value
    b = unify(E(S("p"), V("x"), V("x")), E(S("p"), Int(2), F(2.0)))
    assert b is not None and b.resolve(V("x")) == Int(2)
    assert unify(E(S("p"), V("x"), V("x")), E(S("p"), Int(2), F(2.5))) is None
