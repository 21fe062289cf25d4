"""Join planning, explain and counting, checked against a matcher written here (not the engine's unify)."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mettadb
from mettadb.atoms import Atom, Expression, Integer, Symbol, Variable
from mettadb.query import QueryStats, count, run_query

# ------------------------------------------------------------------ an independent oracle


def match_ground(pattern: Atom, fact: Atom, env: dict[str, Atom]) -> dict[str, Atom] | None:
    """One-sided matching of a pattern against a ground fact (variables by name)."""
    env = dict(env)
    stack = [(pattern, fact)]
    while stack:
        p, f = stack.pop()
        if isinstance(p, Variable):
            if p.name in env:
                if env[p.name] != f:
                    return None
            else:
                env[p.name] = f
        elif isinstance(p, Expression):
            if not isinstance(f, Expression) or len(p.children) != len(f.children):
                return None
            stack.extend(zip(p.children, f.children))
        elif p != f:
            return None
    return env


def oracle(facts: list[Atom], parts: list[Atom]) -> Counter[tuple[tuple[str, str], ...]]:
    """Every match of a conjunction over ground facts, left to right, by brute force."""
    envs: list[dict[str, Atom]] = [{}]
    for p in parts:
        envs = [e2 for e in envs for f in facts if (e2 := match_ground(p, f, e)) is not None]
    return Counter(tuple(sorted((k, str(v)) for k, v in e.items())) for e in envs)


def engine(space: mettadb.Space, parts: list[Atom]) -> Counter[tuple[tuple[str, str], ...]]:
    names = sorted({a.name for p in parts for a in _vars(p)})
    out: Counter[tuple[tuple[str, str], ...]] = Counter()
    for b in space.query(Expression([Symbol(","), *parts])):
        out[tuple((n, str(b[Variable(n)])) for n in names)] += 1
    return out


def _vars(a: Atom) -> list[Variable]:
    if isinstance(a, Variable):
        return [a]
    if isinstance(a, Expression):
        return [v for c in a.children for v in _vars(c)]
    return []


def connected_graph(parts: list[Atom]) -> bool:
    """Whether the patterns with variables form one component when linked by shared variables."""
    groups = [set(v.name for v in _vars(p)) for p in parts if _vars(p)]
    if not groups:
        return True
    seen = set(groups[0])
    left = groups[1:]
    changed = True
    while changed:
        changed = False
        for g in list(left):
            if g & seen:
                seen |= g
                left.remove(g)
                changed = True
    return not left


def order_is_connected(steps: list[Atom]) -> bool:
    """Each step with variables, after the first such, shares one with the steps before it."""
    have: set[str] = set()
    for p in steps:
        vs = {v.name for v in _vars(p)}
        if have and vs and not vs & have:
            return False
        have |= vs
    return True


# ------------------------------------------------------------------ generated data

PEOPLE = [Symbol(f"P{i}") for i in range(6)]
VARS = [Variable(n) for n in "xyzw"]
RELATIONS = {"parent": 2, "age": 2, "likes": 2, "edge3": 3}

people = st.sampled_from(PEOPLE)
values = st.sampled_from([Integer(1), Integer(2), Integer(3)])


@st.composite
def fact(draw: st.DrawFn) -> Atom:
    rel = draw(st.sampled_from(sorted(RELATIONS)))
    if rel == "age":
        return Expression([Symbol(rel), draw(people), draw(values)])
    if rel == "edge3":
        return Expression([Symbol(rel), draw(people), draw(people), draw(values)])
    if rel == "likes":  # a nested argument: tokens are not arguments
        return Expression([Symbol(rel), draw(people), Expression([Symbol("List"), draw(people)])])
    return Expression([Symbol(rel), draw(people), draw(people)])


@st.composite
def pattern(draw: st.DrawFn) -> Atom:
    rel = draw(st.sampled_from(sorted(RELATIONS)))
    term = st.one_of(st.sampled_from(VARS), people)
    if rel == "age":
        return Expression([Symbol(rel), draw(term), draw(st.one_of(st.sampled_from(VARS), values))])
    if rel == "edge3":
        return Expression([Symbol(rel), draw(term), draw(term), draw(st.one_of(st.sampled_from(VARS), values))])
    if rel == "likes":
        return Expression([Symbol(rel), draw(term), draw(st.one_of(st.sampled_from(VARS),
                                                                   term.map(lambda t: Expression([Symbol("List"), t]))))])
    return Expression([Symbol(rel), draw(term), draw(term)])


def _bound_size(facts: list[Atom], parts: list[Atom]) -> int:
    n = 1
    for p in parts:
        n *= max(1, sum(1 for f in facts if match_ground(p, f, {}) is not None))
    return n


@settings(max_examples=120)
@given(st.lists(fact(), min_size=1, max_size=30), st.lists(pattern(), min_size=2, max_size=5), st.randoms())
def test_random_conjunctions_match_the_oracle_and_plans_are_connected(tmp_path_factory, facts, parts, rnd):
    assume(_bound_size(facts, parts) <= 20_000)
    with mettadb.open(tmp_path_factory.mktemp("s") / "space.db") as space:
        space.add_all(facts)
        expected = oracle(facts, parts)
        assert engine(space, parts) == expected
        assert count(space, Expression([Symbol(","), *parts])) == sum(expected.values())
        shuffled = list(parts)
        rnd.shuffle(shuffled)
        assert engine(space, shuffled) == expected
        plan = space.explain(Expression([Symbol(","), *parts]))
        steps = [mettadb.atom(s["pattern"]) for s in plan["steps"]]
        assert Counter(map(str, steps)) == Counter(map(str, parts))
        if connected_graph(parts):
            assert order_is_connected(steps), plan
            assert plan["connected"]
        # the order never depends on how the conjunction was written
        assert [s["pattern"] for s in space.explain(Expression([Symbol(","), *shuffled]))["steps"]] == \
            [s["pattern"] for s in plan["steps"]]


def test_oracle_can_fail():
    """The oracle is not vacuous: it sees a join's results and misses none."""
    f = [mettadb.atom(t) for t in ("(parent A B)", "(parent B C)", "(age C 3)")]
    parts = [mettadb.atom("(parent $x $y)"), mettadb.atom("(parent $y $z)"), mettadb.atom("(age $z 3)")]
    assert oracle(f, parts) == Counter({(("x", "A"), ("y", "B"), ("z", "C")): 1})
    assert not order_is_connected([parts[0], parts[2], parts[1]])
    assert not connected_graph([parts[0], mettadb.atom("(age $w 3)")])


# ------------------------------------------------------------------ the cross-product case


def family(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i:
            out.append(f"(parent P{rng.randrange(i)} P{i})")
        out.append(f"(age P{i} {rng.randrange(1, 100)})")
    return out


def test_disconnected_written_orders_get_a_connected_plan(space):
    space.add_all(family(6000))
    written = ["(parent $x $y)", "(age $y 99)", "(age $x 1)"]
    plans = []
    for perm in itertools.permutations(written):
        q = "(, " + " ".join(perm) + ")"
        e = space.explain(q, analyze=True)
        assert e["connected"]
        plans.append([s["pattern"] for s in e["steps"]])
        # a connected order reads the ~60 `(age $x 1)` rows, their children and one lookup each:
        # a cross product of the two age patterns would read thousands of keys
        assert e["keys_visited"] < 1000, e
        assert sum(s["keys_visited"] for s in e["steps"]) == e["keys_visited"]
        assert e["steps"][0]["actual_rows"] == len(list(space.query(e["steps"][0]["pattern"])))
    assert all(p == plans[0] for p in plans)
    assert order_is_connected([mettadb.atom(p) for p in plans[0]])


def test_estimates_use_bound_variables(space):
    space.add_all(family(3000))
    e = space.explain("(, (age $x 1) (parent $x $y))")
    first, second = e["steps"]
    assert first["pattern"] == "(age $x 1)" and first["kind"] == "reverse"
    # `(parent $x $y)` with $x bound is a forward prefix scan with a few rows, not all 2999 parents
    assert second["kind"] == "forward" and second["estimated_rows"] < 50
    assert 10 < first["estimated_rows"] < 100  # ~3000 ages over 99 values


def test_plans_are_cached_per_shape_and_dropped_by_a_write(space):
    space.add_all(family(500))
    a = space.explain("(, (age $x 1) (parent $x $y))")
    b = space.explain("(, (age $x 7) (parent $x $y))")
    assert [s["kind"] for s in a["steps"]] == [s["kind"] for s in b["steps"]]
    # make `age` tiny and `parent` huge: a fresh plan sees the new statistics
    space.clear()
    space.add_all([f"(parent P0 P{i})" for i in range(2000)] + ["(age P0 1)"])
    c = space.explain("(, (parent $x $y) (age $y 1))")
    assert c["steps"][0]["pattern"] == "(age $y 1)"
    assert c["steps"][0]["estimated_rows"] <= 2


# ------------------------------------------------------------------ counting


def test_count_equals_the_number_of_results(space):
    space.add_all(family(800))
    space.add("(age P1 42)", count=3)  # copies count
    space.add_all(["(age $anyone 5)", "($rel P2 7)", "(age (x " + "y " * 300 + ") 9)"])  # variables, a hashed key
    for q in ["(age $p $a)", "(age P1 $a)", "(age $p 5)", "(age $p $p)", "(parent $x P3)", "(age P1 42)",
              "(, (parent $x $y) (age $y $a))", "(, (age $x 1) (parent $x $y))", "$z", "(age (x $y) $n)",
              "(nothing $x)"]:
        assert count(space, mettadb.atom(q)) == len(list(space.query(q))), q
    # inside a write transaction the statistics are not yet written: count still sees the new atoms
    with space.transaction():
        space.add("(age P9999 3)")
        assert count(space, mettadb.atom("(age $p $a)")) == len(list(space.query("(age $p $a)")))
    assert space.count_matches("(age $p $a)") == len(list(space.query("(age $p $a)")))


def test_count_of_a_head_reads_statistics_not_keys(space):
    space.add_all(family(3000))
    n = count(space, mettadb.atom("(age $p $a)"))
    assert n == 3000
    qs = QueryStats()
    assert sum(1 for _ in run_query(space, mettadb.atom("(age $p $a)"), stats=qs)) == n
    assert qs.keys_visited == n  # the query walks them; count answered from the statistics


# ------------------------------------------------------------------ CLI


def test_cli_explain_does_not_run_the_query(run, write):
    # three unrelated relations of 300 atoms: the query is a 27-million-row cross product
    kb = write("kb.metta", "\n".join(f"(a{r} {i})" for r in range(3) for i in range(300)))
    assert run("load", str(kb)).exit_code == 0
    t = time.perf_counter()
    r = run("match", "(, (a0 $x) (a1 $y) (a2 $z))", "--explain")
    assert r.exit_code == 0, r.output
    assert time.perf_counter() - t < 5
    e = json.loads(r.output)
    assert "rows" not in e and "keys_visited" not in e
    assert not e["connected"]  # no connected order exists, and the plan says so
    assert [s["estimated_rows"] for s in e["steps"]] == [300.0, 300.0, 300.0]
    assert e["estimated_rows"] == 27_000_000


def test_cli_explain_analyze_reports_actual_rows_and_keys(run, write):
    kb = write("kb.metta", "\n".join(family(400)))
    assert run("load", str(kb)).exit_code == 0
    r = run("match", "(, (age $x 1) (parent $x $y))", "--explain", "--analyze")
    assert r.exit_code == 0, r.output
    e = json.loads(r.output)
    ages = json.loads(run("match", "(age $x 1)", "--explain", "--analyze").output)["rows"]
    first, second = e["steps"]
    assert first["actual_rows"] == ages and first["keys_visited"] == ages
    assert second["actual_rows"] == e["rows"]
    assert e["keys_visited"] == first["keys_visited"] + second["keys_visited"]
    assert e["rows"] == int(run("match", "(, (age $x 1) (parent $x $y))", "--count").output)
    bad = run("match", "(age $x 1)", "--analyze")
    assert bad.exit_code == 1 and bad.output.strip() == "Error: --analyze needs --explain"


def test_cli_count(run, write):
    kb = write("kb.metta", "\n".join(family(300)) + "\n(age P1 1)\n")
    assert run("load", str(kb), "--duplicates").exit_code == 0
    for q in ["(age $p $a)", "(age P1 $a)", "(parent $x P7)", "(, (parent $x $y) (age $y $a))"]:
        n = len(run("match", q).output.splitlines())
        assert run("match", q, "--count").output.strip() == str(n)
    assert run("match", "(age $p $a)", "--count", "--limit", "5").output.strip() == "5"


@pytest.mark.parametrize("q", ["(, (age $x 1) (parent $x $y))", "(parent $x $y)"])
def test_query_stats_per_step_sum_to_the_total(space, q):
    space.add_all(family(200))
    qs = QueryStats()
    n = sum(1 for _ in run_query(space, mettadb.atom(q), stats=qs))
    assert n == len(list(space.query(q)))
    if qs.step_keys:
        assert sum(qs.step_keys) == qs.keys_visited and qs.step_rows[-1] == n


def test_explain_of_one_pattern_shows_the_path_it_runs_on(space):
    # equal constant prefix and suffix: a single pattern runs forward, whatever the estimates say
    space.add_all([f"(edge3 P{i % 50} P{i} {i % 3})" for i in range(600)])
    for q in ["(edge3 P1 $y 2)", "(edge3 $x $y 2)", "(edge3 P1 $y $z)", "(edge3 $x P7 1)"]:
        e = space.explain(q, analyze=True)
        qs = QueryStats()
        n = sum(1 for _ in run_query(space, mettadb.atom(q), stats=qs))
        assert e["rows"] == n and e["keys_visited"] == qs.keys_visited
        step = e["steps"][0]
        assert step["kind"] == ("reverse" if q in ("(edge3 $x $y 2)", "(edge3 $x P7 1)") else "forward"), (q, step)
