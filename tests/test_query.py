"""The query engine: two-sided matching, access paths, planning, and a brute-force oracle (tests/oracle.py)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import example, given, settings
from oracle import brute, canon
from strategies import query_cases

import mettadb
from mettadb import E, S, V
from mettadb.atoms import Expression, Integer, Variable, iter_atoms
from mettadb.query import QueryStats, run_query
from mettadb.unify import unify


def ours(space, pattern, template):
    return Counter(canon(str(a)) for a in space.match(pattern, template))


def test_two_sided_matching_with_stored_variables(space):
    space.add_all(["(= (f $x) (g $x))", "(= (f 0) zero)", "(parent Tom Bob)", "(likes $anyone pizza)"])
    assert sorted(map(str, space.match("(= (f 1) $r)", "$r"))) == ["(g 1)"]
    assert sorted(map(str, space.match("(= (f 0) $r)", "$r"))) == ["(g 0)", "zero"]
    assert sorted(map(str, space.match("(likes Ann $what)", "$what"))) == ["pizza"]
    # variable-to-variable: the query's variable stays the representative, as in hyperon
    assert sorted(map(str, space.match("(likes $who pizza)", "$who"))) == ["$who"]


def test_occurs_check(space):
    space.add("(same $x $x)")
    assert list(space.query("(same $y (f $y))")) == []
    assert unify(V("x"), E(S("f"), V("x"))) is None


def test_leading_variable_uses_the_reverse_index(space):
    space.add_all([f"(parent P{i} P{i + 1})" for i in range(2000)] + [f"(age P{i} {i})" for i in range(2000)])
    plan = space.explain("(parent $x P456)", analyze=True)
    assert plan["steps"][0]["kind"] == "reverse" and plan["rows"] == 1
    assert plan["keys_visited"] <= 10 * plan["rows"]
    nested = space.explain("(age $p 77)", analyze=True)
    assert nested["rows"] == 1 and nested["keys_visited"] == 1


def test_nested_leading_variable(space):
    space.add_all([f"(Evaluation (Predicate likes) (List P{i} P{i % 7}))" for i in range(500)])
    qs = QueryStats()
    rows = list(run_query(space, mettadb.atom("(Evaluation $p (List $a P3))"), stats=qs))
    assert len(rows) == len([i for i in range(500) if i % 7 == 3])
    assert qs.keys_visited <= 10 * len(rows)


def test_conjunction_order_does_not_change_results(space):
    space.add_all([f"(parent P{i} P{2 * i + k})" for i in range(300) for k in (1, 2)] + ["(female P7)", "(female P8)"])
    a = ours(space, mettadb.atom("(, (parent $x $y) (parent $y $z) (female $z))"), mettadb.atom("($x $y $z)"))
    b = ours(space, mettadb.atom("(, (female $z) (parent $y $z) (parent $x $y))"), mettadb.atom("($x $y $z)"))
    assert a == b and sum(a.values()) == 2
    p1 = space.explain("(, (parent $x $y) (parent $y $z) (female $z))")
    p2 = space.explain("(, (female $z) (parent $y $z) (parent $x $y))")
    assert [s["pattern"] for s in p1["steps"]] == [s["pattern"] for s in p2["steps"]]
    assert p1["steps"][0]["pattern"] == "(female $z)"


def test_query_is_lazy(space):
    space.add_all(f"(n {i})" for i in range(5000))
    it = space.query("(n $x)")
    first = next(it)
    assert first[V("x")] == Integer(0)
    it.close()


def test_empty_conjunction_and_ground_pattern(space):
    space.add("(a b)")
    assert len(list(space.query("(,)"))) == 1
    assert len(list(space.query("(a b)"))) == 1
    assert list(space.query("(a c)")) == []


def test_variable_pattern_sees_everything(space):
    space.add_all(["(a b)", "c", "(= (f $x) $x)", "42", '"s"'])
    assert len(list(space.query("$anything"))) == 5


def test_json_bindings_use_pattern_variables(space):
    space.add("(parent Tom Bob)")
    [b] = list(space.query("(parent $x $y)"))
    assert b.to_dict() == {"x": "Tom", "y": "Bob"}


@settings(max_examples=150)
@example(([mettadb.atom("(a 1 2)"), mettadb.atom("(a 2 2)")], mettadb.atom("(a $x $x)")))  # a repeated variable
@example(([mettadb.atom("(a 1 2)"), mettadb.atom("(a 1)")], mettadb.atom("(a $x)")))  # a longer stored atom
@example(([mettadb.atom("(same $y $y)"), mettadb.atom("(f 1)")], mettadb.atom("(, (f $x) (same $x (g $x)))")))
@example(([mettadb.atom("(p $x (f $x))"), mettadb.atom("(p 1 (f 1))")], mettadb.atom("(p $y $y)")))  # occurs check
@given(query_cases())
def test_random_queries_agree_with_brute_force(tmp_path_factory, case):
    stored, pattern = case
    with mettadb.open(tmp_path_factory.mktemp("q")) as sp:
        sp.add_all(stored)
        template = Expression([S("r"), *[v for v in dict.fromkeys(a for a in iter_atoms(pattern) if type(a) is Variable)]])
        assert ours(sp, pattern, template) == brute(stored, pattern, template)


def test_the_variable_index_mirror_follows_every_change(tmp_path):
    """Patterns probe an in-memory copy of the variable index's keys; it must never be stale."""
    path = tmp_path / "s"
    with mettadb.open(path) as sp:
        sp.add("(= (f 1) one)")
        assert list(map(str, sp.match("(= (f 1) $b)", "$b"))) == ["one"]
        try:
            with sp.transaction():
                sp.add("(= (f $x) any)")  # a new key in the variable index, not committed yet
                assert sorted(map(str, sp.match("(= (f 1) $b)", "$b"))) == ["any", "one"]
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert list(map(str, sp.match("(= (f 1) $b)", "$b"))) == ["one"]
        with mettadb.open(path, readonly=True) as reader:
            assert list(map(str, reader.match("(= (f 1) $b)", "$b"))) == ["one"]
            code = "import sys, mettadb\nwith mettadb.open(sys.argv[1]) as w: w.add('(= (f $y) other)')\n"
            subprocess.run([sys.executable, "-c", code, str(path)], check=True)
            assert sorted(map(str, reader.match("(= (f 1) $b)", "$b"))) == ["one", "other"]
        sp.remove("(= (f $y) other)")
        assert list(map(str, sp.match("(= (f 1) $b)", "$b"))) == ["one"]


def test_bindings_are_indexed_by_variable_or_by_name(space):
    space.add_all(["(likes Ann Tea)"])
    b = next(space.query("(likes Ann $x)"))
    assert b["x"] == b["$x"] == b[mettadb.V("x")] == mettadb.S("Tea")
    assert "x" in b and "$x" in b and "y" not in b and b.get("y") is None
    with pytest.raises(KeyError):
        b["y"]


def test_a_pattern_thousands_of_levels_deep_with_numbers_does_not_recurse(space):
    """Numbers are matched by value through a generalized pattern (`query._swap_all`), which was
    recursive: 2,000 levels of `(f 1 ...)` were a RecursionError."""
    deep = "(f 1 " * 2000 + "x" + ")" * 2000
    space.add(f"(k {deep.replace('(f 1 ', '(f 1.0 ')})")
    assert len(list(space.query(f"(k {deep})"))) == 1
    assert [str(a) for a in space.eval(f"(match &self (k {deep}) ok)")] == ["ok"]
