"""Rule bodies: the generated builder of a ground call's instance against the bindings' resolution."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mettadb.atoms import Expression, Integer, String, Symbol, Variable
from mettadb.bindings import Bindings
from mettadb.interp.rules import BUILD_DEPTH, body_builder

PARAMS = (Variable("a"), Variable("b"), Variable("c"))
leaves = st.one_of(st.sampled_from([*PARAMS, Variable("local"), Symbol("f"), Symbol("if"), Integer(2), String("s")]))
bodies = st.recursive(leaves, lambda kids: st.lists(kids, max_size=4).map(lambda k: Expression(tuple(k))), max_leaves=25)
values = st.recursive(st.sampled_from([Symbol("x"), Integer(7), String("t")]),
                      lambda kids: st.lists(kids, min_size=1, max_size=3).map(lambda k: Expression(tuple(k))),
                      max_leaves=6)


def _same(a, b) -> bool:
    """Equal, and alike where equality does not look: groundness and hash."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x != y or hash(x) != hash(y) or type(x) is not type(y):
            return False
        if type(x) is Expression:
            if x.ground != y.ground:
                return False
            stack.extend(zip(x.children, y.children))
    return True


@settings(max_examples=300)
@given(body=bodies, args=st.lists(values, min_size=3, max_size=3))
def test_a_builder_gives_what_resolving_the_body_gives(body, args):
    call = (Symbol("g"), *args)
    want = Bindings(dict(zip(PARAMS, args))).resolve(body)
    assert _same(body_builder(body, PARAMS)(call), want)


def test_a_body_deeper_than_the_generated_code_goes_is_instantiated_all_the_same():
    body = Variable("a")
    for i in range(BUILD_DEPTH * 3):
        body = Expression((Symbol("s"), body, Integer(i)))
    got = body_builder(body, (Variable("a"),))((Symbol("g"), Symbol("z")))
    assert _same(got, Bindings({Variable("a"): Symbol("z")}).resolve(body))


def test_a_body_without_the_head_variables_is_itself():
    body = Expression((Symbol("k"), Variable("local")))
    assert body_builder(body, PARAMS)((Symbol("g"), Symbol("x"), Symbol("y"), Symbol("z"))) is body
