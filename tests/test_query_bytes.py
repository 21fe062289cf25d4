"""The byte-level executor (rows of captured subterm paths) and lazy binding values.

Random conjunctions of 2-5 patterns with nested and repeated variables run on bytes
(`QueryStats.executor == "bytes"`) and are held to the brute-force oracle; lazy values are
held to the general path's eager ones, read in any order, partly or never.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from oracle import brute, canon, resolve

import mettadb
import mettadb.query as query_mod
from mettadb import E, S, V
from mettadb.atoms import Atom, Expression, Symbol, Variable, iter_atoms
from mettadb.bindings import CAPTURES, Bindings, LazyBindings
from mettadb.query import QueryStats, run_query

VARS = [Variable(n) for n in ("x", "y", "z", "w")]
# ground facts over a few symbols and numbers, nested up to a few levels: random joins hit often
LEAVES = st.sampled_from([Symbol("a"), Symbol("b"), Symbol("c"), Symbol("f"), mettadb.atom("1"), mettadb.atom("2")])
FACTS = st.recursive(LEAVES, lambda c: st.lists(c, min_size=1, max_size=3).map(Expression), max_leaves=7)


def _generalize(rnd, a: Atom) -> Atom:
    """`a` with some subterms (nested ones too) replaced by variables, repeats included."""
    if rnd.random() < 0.35:
        return rnd.choice(VARS)
    if type(a) is Expression:
        return Expression([_generalize(rnd, c) for c in a.children])
    return a


@st.composite
def conjunction_cases(draw):
    """(ground facts, a conjunction of 2-5 patterns generalized from them, incoming bindings)."""
    facts = draw(st.lists(FACTS, min_size=1, max_size=14))
    rnd = draw(st.randoms(use_true_random=False))
    parts = [_generalize(rnd, rnd.choice(facts)) for _ in range(rnd.randint(2, 5))]
    incoming: dict[Variable, Atom] = {}
    if rnd.random() < 0.3:  # an incoming binding: to a value, or to a variable the query binds
        incoming[Variable("in")] = rnd.choice([rnd.choice(facts), rnd.choice(VARS)])
        parts = [_generalize_in(p, rnd) for p in parts]
    return facts, Expression([Symbol(","), *parts]), incoming


def _generalize_in(p: Atom, rnd) -> Atom:
    if type(p) is Variable and rnd.random() < 0.5:
        return Variable("in")
    if type(p) is Expression:
        return Expression([_generalize_in(c, rnd) for c in p.children])
    return p


def _template(pattern: Atom, incoming: dict[Variable, Atom]) -> Atom:
    vs = dict.fromkeys([*(a for a in iter_atoms(pattern) if type(a) is Variable), *incoming])
    return Expression([S("r"), *vs])


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return tmp_path_factory


@example(([mettadb.atom("(a (f 1) 2)"), mettadb.atom("(b 2 (f 1))")], mettadb.atom("(, (a $x $y) (b $y $x))"), {}))
@example(([mettadb.atom("(a 1 1)"), mettadb.atom("(a 1 2)")], mettadb.atom("(, (a $x $x) (a $x $y))"), {}))
@example(([mettadb.atom("(a b c)"), mettadb.atom("(f (a b c))")],
          mettadb.atom("(, (a $x $y) (f (a $x $z)))"), {V("in"): V("y")}))
@example(([mettadb.atom("(a b c)")], mettadb.atom("(, (a $in $y) (a b $y))"), {V("in"): mettadb.atom("b")}))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conjunction_cases())
def test_random_conjunctions_on_bytes_agree_with_brute_force(shared, case):
    facts, pattern, incoming = case
    template = _template(pattern, incoming)
    with mettadb.open(shared.mktemp("b")) as sp:
        sp.add_all(facts)
        qs = QueryStats()
        got = Counter(canon(str(b.resolve(template))) for b in run_query(sp, pattern, Bindings(incoming), qs))
        assert qs.executor == "bytes"
        # the oracle: the incoming bindings substituted into the pattern and the template
        want = brute(facts, resolve(pattern, incoming), resolve(template, incoming))
        assert got == want
        assert sp.count_matches(pattern) == sum(brute(facts, pattern, pattern).values())


def _eager(sp, pattern, bindings):
    """The same query on the general path (decode and unify per row): plain Bindings."""
    saved = query_mod._clear
    query_mod._clear = lambda r, prog: None
    try:
        out = list(run_query(sp, pattern, bindings))
    finally:
        query_mod._clear = saved
    assert all(type(b) is Bindings for b in out)
    return out


def _reads(b: Bindings, order: list[Variable]) -> tuple[str, ...]:
    """Read some variables in the given order (by variable, by name, by `$name`), then compare the rest."""
    out = []
    for i, v in enumerate(order):
        key = (v, v.name, "$" + v.name)[i % 3]
        out.append(f"{v.name}={b[key]}")
    return tuple(out)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conjunction_cases(), st.randoms(use_true_random=False))
def test_lazy_values_equal_eager_ones(shared, case, rnd):
    facts, pattern, incoming = case
    with mettadb.open(shared.mktemp("l")) as sp:
        sp.add_all(facts)
        eager = _eager(sp, pattern, Bindings(incoming))
        qs = QueryStats()
        lazy = list(run_query(sp, pattern, Bindings(incoming), qs))
        assert qs.executor == "bytes"
        assert all(type(b) is LazyBindings for b in lazy)
        variables = list(dict.fromkeys([*incoming, *(a for a in iter_atoms(pattern) if type(a) is Variable)]))
        for b in lazy:
            assert len(b) == len(set(b)) and all(v in b for v in b)
        # some values read (in a random order, some never), then the whole mapping compared
        lazy_views = []
        for b in lazy:
            order = [v for v in variables if v in b and rnd.random() < 0.6]
            rnd.shuffle(order)
            lazy_views.append((_reads(b, order), frozenset(b.items()), str(b)))
        eager_views = Counter()
        for b in eager:
            eager_views[frozenset(b.items())] += 1
        assert Counter(items for _, items, _ in lazy_views) == eager_views
        for (reads, items, text) in lazy_views:
            d = {v.name: a for v, a in items}
            assert reads == tuple(f"{r.split('=', 1)[0]}={d[r.split('=', 1)[0]]}" for r in reads)
        assert sorted(map(str, lazy)) == sorted(map(str, eager))
        assert Counter(lazy) == Counter(eager)  # == and hash as plain Bindings


def test_nested_captures_decode_once_and_compare_as_atoms(space):
    space.add_all(["(likes Ann (List Tea (Cup 2)))", "(likes Bob (List Tea (Cup 2)))", "(age Ann 30)"])
    got = list(space.query("(, (likes $p $what) (age $p $a))"))
    assert len(got) == 1
    b = got[0]
    assert type(b) is LazyBindings
    first = b[V("what")]
    assert first == mettadb.atom("(List Tea (Cup 2))")
    assert b["what"] is first and got[0][V("what")] is first  # an expression is decoded once, then kept
    assert b.resolve(E(S("r"), V("p"), V("what"))) == mettadb.atom("(r Ann (List Tea (Cup 2)))")
    assert b == Bindings({V("p"): S("Ann"), V("what"): first, V("a"): mettadb.atom("30")})


def test_a_variable_bound_to_a_captured_variable(space):
    space.add_all(["(parent Tom (kid Bob))"])
    incoming = Bindings({V("a"): V("x"), V("k"): S("Tom")})
    got = list(run_query(space, mettadb.atom("(, (parent $k $x) (parent Tom $x))"), incoming))
    assert len(got) == 1
    b = got[0]
    assert type(b) is LazyBindings
    assert b[V("a")] == b["x"] == mettadb.atom("(kid Bob)")  # $a -> $x -> the capture
    assert b["k"] == S("Tom") and set(b) == {V("a"), V("k"), V("x")} and len(b) == 3
    assert b.links[V("a")] == V("x")


def test_values_never_read(space):
    space.add_all(["(edge a (b c))", "(edge (b c) d)"])
    CAPTURES.clear()
    got = list(space.query("(, (edge $x $y) (edge $y $z))"))
    assert [type(b) for b in got] == [LazyBindings]
    b = got[0]
    assert not CAPTURES  # nothing decoded yet
    assert b.to_dict() == {"x": "a", "y": "(b c)", "z": "d"}  # every link built at once
    assert b[V("y")] is b.links[V("y")]  # the read after it reuses the built expression


def test_explain_analyze_counts_steps_on_bytes(space):
    space.add_all(["(parent A B)", "(parent B C)", "(parent B D)", "(age C 1)", "(age D 1)"])
    out = space.explain("(, (parent A $x) (parent $x $y) (age $y 1))", analyze=True)
    assert out["executor"] == "bytes" and out["rows"] == 2
    assert [s["actual_rows"] for s in out["steps"]] == [1, 2, 2] or sum(s["keys_visited"] for s in out["steps"]) \
        == out["keys_visited"]
    assert sum(s["keys_visited"] for s in out["steps"]) == out["keys_visited"]
    assert out["steps"][-1]["actual_rows"] == 2


def test_stored_variables_under_a_step_take_the_general_path(space):
    facts = [mettadb.atom(t) for t in ("(parent A B)", "(parent $p C)", "(age B 1)")]
    space.add_all(facts)
    qs = QueryStats()
    pattern, template = mettadb.atom("(, (parent A $x) (parent $y $x))"), mettadb.atom("(r $x $y)")
    got = Counter(canon(str(b.resolve(template))) for b in run_query(space, pattern, stats=qs))
    assert qs.executor == "general"
    assert got == brute(facts, pattern, template) and len(got) == 2
    qs = QueryStats()
    assert len(list(run_query(space, mettadb.atom("(, (age $x 1) (age $x $n))"), stats=qs))) == 1
    assert qs.executor == "bytes"  # no stored atom with variables under `(age`


def test_extension_tags_inside_a_byte_join_take_the_general_path_row_by_row(space):
    long = "L" * 80  # a long symbol: an extension tag, which the byte steps do not measure
    facts = [mettadb.atom(t) for t in (f"(tag A {long} x)", f"(tag B {long} y)", "(tag C short z)", "(pet A cat)",
                                       "(pet B dog)", "(pet C eel)", f"(name A {long})")]
    space.add_all(facts)
    for text in ("(, (pet $p $k) (tag $p $n $z))", "(, (pet $p $k) (name $p $n))", "(, (tag $p $n $z) (pet $p $k))",
                 "(, (tag $p $n x) (pet $p $k))", "(, (tag A $n $z) (pet $p $k) (pet $p cat))",
                 "(, (pet $p cat) (tag $p $n $z) (pet $p $k))"):
        pattern = mettadb.atom(text)
        template = Expression([S("r"), *dict.fromkeys(a for a in iter_atoms(pattern) if type(a) is Variable)])
        qs = QueryStats()
        got = Counter(canon(str(b.resolve(template))) for b in run_query(space, pattern, stats=qs))
        assert qs.executor == "bytes"
        assert got == brute(facts, pattern, template) and got


def test_each_query_sees_its_own_snapshot_across_slot_flips_and_other_writers(tmp_path):
    """A query reuses what the query layer knows of a snapshot it has seen (same snapshot id); a bulk
    load or another store's write makes a new snapshot, read afresh."""
    path = tmp_path / "s"
    f1, f2 = tmp_path / "a.metta", tmp_path / "b.metta"
    f1.write_text("(parent A B)\n(age B 1)\n")
    f2.write_text("(parent A C)\n(age C 1)\n")
    q = mettadb.atom("(, (parent A $x) (age $x 1))")
    with mettadb.open(path) as sp:
        sp.load(f1, bulk=True)
        assert sorted(str(b["x"]) for b in sp.query(q)) == ["B"]
        sp.load(f2, bulk=True)
        assert sorted(str(b["x"]) for b in sp.query(q)) == ["B", "C"]
        assert sorted(str(b["x"]) for b in sp.query(q)) == ["B", "C"]
        with mettadb.open(path) as other:
            other.add_all(["(parent A D)", "(age D 1)"])
        assert sorted(str(b["x"]) for b in sp.query(q)) == ["B", "C", "D"]
        assert sp.count_matches(q) == 3


@pytest.mark.parametrize("text", ["(parent P $x)", "(parent $x K1)", "(, (parent $x $y) (parent $y $z))",
                                  "(, (parent P $x) (age $x $n))", "(, (age $x $n) (age $y $n))"])
def test_plain_format_3_facts_stay_on_the_byte_path(space, text):
    """Format-3 records (a bare insertion number: one copy; `[count, seq]`: copies) are read by the
    generated steps themselves; a wrong record test there sends every row to the general path,
    still correct but slow, which `general_records` shows."""
    facts = [mettadb.atom(t) for t in ("(parent P K1)", "(parent P K2)", "(parent K1 G1)", "(parent K2 G2)",
                                       "(parent K2 G3)", "(age K1 7)", "(age K2 7)", "(age G1 1)")]
    space.add_all(facts)
    copies = [mettadb.atom("(parent K1 G1)"), mettadb.atom("(parent K1 G1)"), mettadb.atom("(age K2 7)")]
    space.add_all(copies)  # three records of 3, 2 copies: `[count, seq]`
    with space.read() as txn:  # the records are format 3: bare msgpack uint32 numbers and [count, seq]
        firsts = {bytes(raw[:1]) for _, raw in txn.cursor(db=space._dbs.atoms)}
    assert firsts == {b"\xce", b"\x92"}
    pattern = mettadb.atom(text)
    template = Expression([S("r"), *dict.fromkeys(a for a in iter_atoms(pattern) if type(a) is Variable)])
    qs = QueryStats()
    got = Counter(canon(str(b.resolve(template))) for b in run_query(space, pattern, stats=qs))
    assert qs.executor == "bytes" and qs.general_records == 0
    assert got == brute(facts + copies, pattern, template) and got
    out = space.explain(text, analyze=True)
    assert out["executor"] == "bytes" and out["general_records"] == 0 and out["rows"] == sum(got.values())
    assert space.count_matches(text) == sum(got.values())


def test_a_large_copy_count_takes_the_general_path_and_counts_right(space):
    space.add_all(["(parent P K1)"] * 130 + ["(parent P K2)"])  # a count past a fixint: `[0xCC 130, seq]`
    qs = QueryStats()
    assert Counter(str(b[V("x")]) for b in run_query(space, mettadb.atom("(parent P $x)"), stats=qs)) \
        == {"K1": 130, "K2": 1}
    assert qs.executor == "bytes" and qs.general_records == 1
    assert space.count_matches("(parent P $x)") == 131
