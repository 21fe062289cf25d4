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
