"""Unification: agreement with an independent unifier, the occurs check, prior bindings, deep terms."""

from __future__ import annotations

import oracle
import pytest
from hypothesis import example, given
from strategies import query_atoms

import mettadb
from mettadb import Bindings, E, S, V, alpha_equal, unify
from mettadb.atoms import Expression, Variable
from mettadb.errors import LimitError
from mettadb.spaces import MemorySpace, SpaceAtom
from mettadb.unify import unify_all

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


def _names(a, b, incoming=EMPTY):
    """The atom `a` instantiated by the unifier of `a` and `b`, as MeTTa text."""
    got = unify(a, b, incoming)
    assert got is not None
    return str(got.resolve(a))


def test_a_variable_new_to_the_matching_joins_its_group():
    """hyperon 0.2.10: the group a matching made keeps the name of the variable that started it."""
    a, b, c, d, x = V("a"), V("b"), V("c"), V("d"), V("x")
    assert _names(E(a, b), E(c, c)) == "($a $a)"  # ($a,$c) makes {a=c}; $b joins it
    assert _names(E(c, c), E(a, b)) == "($c $c)"
    assert _names(E(a, b, c), E(x, x, x)) == "($a $a $a)"
    assert _names(E(d, V("e")), E(c, d)) == "($d $d)"
    assert _names(E(a, b), E(c, a)) == "($a $a)"  # $a started the group before $b met it


def test_a_variable_met_by_itself_first_makes_a_group():
    b, c, d = V("b"), V("c"), V("d")
    assert _names(E(b, d, b, d), E(b, b, d, c)) == "($b $b $b $b)"


def test_an_incoming_group_takes_the_name_the_matching_gives():
    """hyperon matches the instantiated atoms from scratch, then merges the incoming bindings in."""
    a, c, d = V("a"), V("c"), V("d")
    incoming = unify(d, a)  # {a = d}, named $d
    assert incoming is not None and str(incoming.resolve(a)) == "$d"
    assert _names(E(c, E(d)), E(a, V("e")), incoming) == "($c ($c))"


def test_a_value_met_again_is_matched_in_its_own_scope():
    """A variable's value meeting another value: the two are matched from scratch, the earlier on
    the left, and the groups already made join what that gives."""
    a, b, c, d, e = V("a"), V("b"), V("c"), V("d"), V("e")
    left = E(a, b, a, b)
    right = E(c, E(e, e), c, E(c, d))
    assert _names(left, right) == "($e ($e $e) $e ($e $e))"


# ---------------------------------------------------------------- a space inside an atom


def _space(*atoms):
    sp = MemorySpace()
    for a in atoms:
        sp.add(a)
    return SpaceAtom(sp)


def test_a_space_meeting_an_atom_is_queried_with_it():
    """hyperon matches a space inside an atom by a query of the space: a match for each way the
    space holds the other atom, with the query's bindings of the other atom's variables."""
    k = _space(S("a"), S("a"), E(S("r"), mettadb.Integer(1)), E(S("r"), mettadb.Integer(2)))
    assert len(unify_all(E(S("p"), k), E(S("p"), S("a")))) == 2
    assert len(unify_all(E(S("p"), S("a")), E(S("p"), k))) == 2
    assert unify_all(E(S("p"), k), E(S("p"), S("b"))) == []
    rows = unify_all(E(S("p"), k), E(S("p"), E(S("r"), V("x"))))
    assert [r[V("x")] for r in rows] == [mettadb.Integer(1), mettadb.Integer(2)]
    assert unify(E(S("p"), k), E(S("p"), E(S("r"), V("x"))))[V("x")] == mettadb.Integer(1)  # (the first)
    # a variable binds to the space, as before; the space meets itself by a query: each of its atoms queried
    # with it (`a` twice, 2 ways each, and the two `r`s)
    assert unify_all(V("s"), k) == [Bindings({V("s"): k})]
    assert len(unify_all(E(S("p"), k), E(S("p"), k))) == 6
    # the prior bindings constrain the query's
    rows = unify_all(E(S("p"), k, V("x")), E(S("p"), E(S("r"), V("x")), mettadb.Integer(2)))
    assert [r[V("x")] for r in rows] == [mettadb.Integer(2)]


def test_two_spaces_meeting_query_the_left_one_or_the_stored_one():
    """unify queries its first argument's space with the second's; a query of a space (`stored`)
    queries the stored atom's space with the pattern's, as hyperon's index does."""
    anything, empty = _space(V("v")), _space()
    assert len(unify_all(E(S("p"), anything), E(S("p"), empty))) == 1
    assert unify_all(E(S("p"), empty), E(S("p"), anything)) == []
    assert unify_all(E(S("p"), anything), E(S("p"), empty), stored=True) == []
    assert len(unify_all(E(S("p"), empty), E(S("p"), anything), stored=True)) == 1


def test_a_space_queried_with_itself_without_end_is_a_limit_error():
    """A space holding an atom that holds the space, met by itself: each query meets the space again
    (hyperon overflows its stack and dies); here a LimitError, never a RecursionError."""
    sp = MemorySpace()
    k = SpaceAtom(sp)
    sp.add(E(S("w"), k))
    with pytest.raises(LimitError):
        unify_all(E(S("w"), k), E(S("w"), k))
    assert len(unify_all(E(S("w"), k), E(S("w"), V("x")))) == 1  # (a variable: no query)
