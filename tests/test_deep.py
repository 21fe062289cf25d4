"""Arguments nested tens of thousands of levels deep: evaluated in time and memory linear in the depth."""

from __future__ import annotations

from typing import Any

import pytest

import mettadb
from mettadb.parser import parse_atom


def nested(head: str, leaf: str, depth: int) -> str:
    """`(head (head ... leaf))`, `depth` levels."""
    return f"({head} " * depth + leaf + ")" * depth


def counted(interp: Any, name: str) -> list[int]:
    """Count the calls of one of the interpreter's methods (patched on the instance)."""
    calls = [0]
    fn = getattr(interp, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return fn(*args, **kwargs)

    setattr(interp, name, wrapper)
    return calls


def test_a_deep_quoted_argument_is_typed_with_a_bounded_number_of_queries(space):
    # typing `(quote X)`'s argument asked the space for `(: sub $t)` at each level of X, a
    # query whose pattern is the whole subexpression: quadratic (4,000 levels: 6 s, 700 MB)
    interp = space.interpreter()
    queries = counted(interp, "query")
    assert interp.evaluate(parse_atom(f"(size-atom (quote {nested('a', 'x', 20_000)}))")) == [mettadb.Integer(2)]
    assert queries[0] < 20


def test_expression_declarations_are_still_read_inside_a_deep_argument(space):
    space.add("(: (a y) Other)")
    space.add("(: g (-> Leaf Leaf))")
    space.add("(: f (-> Other Other))")
    assert [str(a) for a in space.eval("(g (g (a y)))")] == ["(Error (g (a y)) (BadArgType 1 Leaf Other))"]  # (hyperon's)
    # (with a declared expression of the same length, each level is looked at, not queried)
    interp = space.interpreter()
    queries = counted(interp, "query")
    assert interp.evaluate(parse_atom(f"(get-type {nested('f', '(a y)', 20_000)})")) == [mettadb.Symbol("Other")]
    assert queries[0] < 50


@pytest.mark.parametrize("depth", [20_000, 60_000])
def test_typing_each_level_of_a_deep_call_walks_it_once(space, depth):
    # `(+ 1 (+ 1 ...))`: each level's argument is typed as written; the types found for the
    # levels below are remembered, past 50,000 of them too (a cap there made 60,000 levels quadratic)
    interp = space.interpreter(max_memory=0)
    lookups = counted(interp.types, "declared_types")
    assert interp.evaluate(parse_atom(nested("+ 1", "0", depth))) == [mettadb.Integer(depth)]
    assert lookups[0] < 8 * depth


@pytest.mark.parametrize("text, expected", [
    (f"(let $x {nested('a', 'x', 20_000)} (size-atom $x))", "2"),
    (f"(== {nested('a', 'x', 20_000)} {nested('a', 'x', 20_000)})", "True"),
    (f"(car-atom (quote {nested('a', 'x', 20_000)}))", "quote"),
    (f"(let $r (collapse {nested('a', 'x', 20_000)}) (size-atom $r))", "1"),
], ids=["let", "==", "car-atom", "collapse"])
def test_deep_arguments_evaluate_without_recursion_errors(space, text, expected):
    assert [str(a) for a in space.eval(text, max_memory=0)] == [expected]


def test_a_deep_tuple_evaluates_to_itself(space):
    text = nested("a", "x", 20_000)
    assert space.eval(text, max_memory=0) == [parse_atom(text)]


def test_a_pattern_with_thousands_of_variables_compiles_its_repeats(space):
    """`pattern.Compiled` found a repeated variable by a list search (an 8,000-wide `size-atom`
    took 1.5 s, 100,000 wide more than a minute); the repeats still point at their first capture."""
    from mettadb.pattern import SAME, compiled

    n = 20_000
    names = [f"$v{i}" for i in range(n)]
    comp = compiled(mettadb.atom("(p " + " ".join(names) + " $v0 $v19999)"))
    assert len(comp.variables) == n and comp.steps[-2:] == [(SAME, 0), (SAME, n - 1)]
    assert [str(a) for a in space.eval("(size-atom (" + " ".join(f"a{i}" for i in range(n)) + "))")] == [str(n)]
