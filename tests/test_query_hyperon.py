"""The query engine against hyperon's GroundingSpace: random queries and a family example."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import canon
from strategies import query_atoms, query_patterns

import mettadb
from mettadb import E, S
from mettadb.atoms import Expression, Variable, iter_atoms

hyperon = pytest.importorskip("hyperon")


def ours(space, pattern, template):
    return Counter(canon(str(a)) for a in space.match(pattern, template))




def hyperon_match(stored, pattern, template):
    m = hyperon.MeTTa()
    space = hyperon.GroundingSpaceRef()
    for a in stored:
        space.add_atom(m.parse_single(str(a)))
    res = space.subst(m.parse_single(str(pattern)), m.parse_single(str(template)))
    return Counter(canon(str(a)) for a in res)


@settings(max_examples=60)
@given(st.lists(query_atoms.filter(lambda a: isinstance(a, Expression) and a.children[0] not in (S("="), S(","))), max_size=10),
       query_patterns)
def test_random_queries_agree_with_hyperon(tmp_path_factory, stored, pattern):
    with mettadb.open(tmp_path_factory.mktemp("h")) as sp:
        sp.add_all(stored)
        vars_ = list(dict.fromkeys(a for a in iter_atoms(pattern) if type(a) is Variable))
        template = Expression([S("r"), *vars_])
        assert ours(sp, pattern, template) == hyperon_match(stored, pattern, template)


def test_hyperon_agrees_on_a_family(space):
    facts_ = [E(S("parent"), S(a), S(b)) for a, b in [("Tom", "Bob"), ("Tom", "Liz"), ("Bob", "Ann"), ("Bob", "Pat")]]
    space.add_all(facts_)
    p = mettadb.atom("(, (parent $x $y) (parent $y $z))")
    t = mettadb.atom("($x $z)")
    assert ours(space, p, t) == hyperon_match(facts_, p, t) == Counter({"(Tom Ann)": 1, "(Tom Pat)": 1})
