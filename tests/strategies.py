"""Hypothesis strategies for atoms and MeTTa text."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from mettadb.atoms import Atom, Bool, Expression, Float, Integer, String, Symbol, Variable
from mettadb.tokens import classify_word

_SYM_CHARS = st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters='()";$!\x00\x85')


def _ok_symbol(name: str) -> bool:
    return bool(name) and not name.isspace() and not any(c.isspace() for c in name) and classify_word(name) == "symbol"


symbol_names = st.one_of(
    st.sampled_from(["parent", "Tom", "Bob", "=", "+", "->", ":", "a", "b", "foo-bar", "x.y", "é", "日本"]),
    st.text(_SYM_CHARS, min_size=1, max_size=8),
    st.text(_SYM_CHARS, min_size=60, max_size=80),
).filter(_ok_symbol)

variables = st.sampled_from(["x", "y", "z", "p", "q", "long_name", "v1"]).map(Variable)
symbols = symbol_names.map(Symbol)
integers = st.integers(min_value=-(2**70), max_value=2**70).map(Integer)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: math.isfinite(f)).map(Float)
strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).map(String)
bools = st.booleans().map(Bool)
leaves = st.one_of(symbols, symbols, variables, integers, floats, strings, bools)


def atoms(max_leaves: int = 25) -> st.SearchStrategy[Atom]:
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=5).map(Expression),
        max_leaves=max_leaves,
    )


ground_leaves = st.one_of(symbols, symbols, integers, strings, bools)


def ground_atoms(max_leaves: int = 12) -> st.SearchStrategy[Atom]:
    return st.recursive(
        ground_leaves, lambda c: st.lists(c, min_size=1, max_size=4).map(Expression), max_leaves=max_leaves
    )


# small atoms over a few symbols, numbers and variables: random queries hit often
query_leaves = st.one_of(
    st.sampled_from([Symbol("a"), Symbol("b"), Symbol("c"), Symbol("f"), Integer(1), Integer(2)]),
    st.sampled_from([Variable("x"), Variable("y"), Variable("z")]),
)
query_atoms = st.recursive(query_leaves, lambda c: st.lists(c, min_size=1, max_size=3).map(Expression), max_leaves=6)
query_ground_atoms = st.recursive(query_leaves.filter(lambda a: type(a) is not Variable),
                                  lambda c: st.lists(c, min_size=1, max_size=3).map(Expression), max_leaves=6)
# mostly ground facts (the engine matches those on bytes), some with variables (decoded and unified)
query_facts = st.lists(st.one_of(query_ground_atoms, query_ground_atoms, query_atoms), min_size=0, max_size=12)
query_patterns = st.one_of(
    query_atoms,
    st.lists(query_atoms, min_size=1, max_size=3).map(lambda ps: Expression([Symbol(","), *ps])),
)


def _generalize(rnd, a):
    """`a` with some subterms replaced by variables (repeats included), so the pattern nearly matches `a`."""
    if rnd.random() < 0.3:
        return Variable(rnd.choice("xy"))
    if type(a) is Expression:
        return Expression([_generalize(rnd, c) for c in a.children])
    return a


@st.composite
def query_cases(draw):
    """(stored facts, pattern): random patterns, and patterns (or conjunctions) generalized from stored facts."""
    facts = draw(query_facts)
    rnd = draw(st.randoms(use_true_random=False))
    if not facts or rnd.random() < 0.25:
        return facts, draw(query_patterns)
    parts = [_generalize(rnd, rnd.choice(facts)) for _ in range(rnd.choice((1, 1, 2, 3)))]
    if len(parts) == 1 and rnd.random() < 0.5:
        return facts, parts[0]
    return facts, Expression([Symbol(","), *parts])
