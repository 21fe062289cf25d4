"""In-memory spaces and grounded space/state atoms: MemorySpace, SpaceAtom, StateAtom."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from oracle import brute, canon
from strategies import query_cases

import mettadb
from mettadb import E, S, V
from mettadb.atoms import Atom, Expression, Symbol, Variable, iter_atoms
from mettadb.spaces import MemorySpace, SpaceAtom, StateAtom, rename_apart


def texts(space, pattern, template):
    return Counter(canon(str(b.resolve(mettadb.atom(template)))) for b in space.query(mettadb.atom(pattern)))


# ---------------------------------------------------------------- MemorySpace


def test_memory_space_is_a_multiset():
    sp = MemorySpace()
    for t in ("(a 1)", "(a 1)", "(a 2)", "(b $x)"):
        sp.add(mettadb.atom(t))
    assert len(sp) == 4 and sorted(map(str, sp.atoms())) == ["(a 1)", "(a 1)", "(a 2)", "(b $x)"]
    assert texts(sp, "(a $v)", "$v") == Counter({"1": 2, "2": 1})
    assert sp.remove(mettadb.atom("(a 1)")) and len(sp) == 3
    assert texts(sp, "(a $v)", "$v") == Counter({"1": 1, "2": 1})
    assert sp.remove(mettadb.atom("(b $y)"))  # alpha-equal is enough
    assert not sp.remove(mettadb.atom("(b $y)")) and not sp.remove(mettadb.atom("(c)"))
    assert sorted(map(str, sp.atoms())) == ["(a 1)", "(a 2)"]


def test_memory_space_matches_two_sided_and_conjunctions():
    sp = MemorySpace()
    for t in ("(= (f $x) (g $x))", "(parent Tom Bob)", "(parent Bob Ann)", "(likes $anyone pizza)"):
        sp.add(mettadb.atom(t))
    assert texts(sp, "(= (f 1) $r)", "$r") == Counter({"(g 1)": 1})
    assert texts(sp, "(likes Ann $w)", "$w") == Counter({"pizza": 1})
    assert texts(sp, "(, (parent $x $y) (parent $y $z))", "($x $z)") == Counter({"(Tom Ann)": 1})
    assert texts(sp, "(, (parent $x $y) (likes $y $what))", "($x $what)") == Counter({"(Tom pizza)": 1, "(Bob pizza)": 1})
    assert list(sp.query(mettadb.atom("(parent Ann $x)"))) == []


def test_memory_space_respects_given_bindings():
    sp = MemorySpace()
    sp.add(mettadb.atom("(p 1)"))
    sp.add(mettadb.atom("(p 2)"))
    b = mettadb.unify(V("x"), mettadb.Integer(2))
    assert b is not None
    assert [r.resolve(V("x")) for r in sp.query(mettadb.atom("(p $x)"), b)] == [mettadb.Integer(2)]


def test_stored_variables_are_renamed_apart_on_every_match():
    sp = MemorySpace()
    sp.add(mettadb.atom("(same $x $x)"))
    [b1] = sp.query(mettadb.atom("(same 1 $a)"))
    [b2] = sp.query(mettadb.atom("(same 2 $a)"))
    assert b1.resolve(V("a")) == mettadb.Integer(1) and b2.resolve(V("a")) == mettadb.Integer(2)
    # one stored atom used twice in a conjunction: each use gets its own variables
    assert texts(sp, "(, (same 1 $a) (same 2 $b))", "($a $b)") == Counter({"(1 2)": 1})
    assert texts(sp, "(same $x 3)", "$x") == Counter({"3": 1})
    assert list(sp.query(mettadb.atom("(same $y (f $y))"))) == []  # occurs check
    assert [str(a) for a in sp.atoms()] == ["(same $x $x)"]  # the stored atom is untouched
    r = rename_apart(mettadb.atom("(f $x $y $x)"))
    vs = [a for a in iter_atoms(r) if type(a) is Variable]
    assert len(vs) == 3 and vs[0] == vs[2] != vs[1] and V("x") not in vs and mettadb.alpha_equal(r, mettadb.atom("(f $a $b $a)"))
    assert rename_apart(S("ground")) == S("ground")


def numbers(a: Atom) -> list[tuple[str, int]]:
    """Each variable of a printed atom with its fresh number, as written."""
    return [(n, int(k)) for n, k in re.findall(r"\$(\w+)#(\d+)", str(a))]


def test_rename_apart_numbers_variables_as_written() -> None:
    """hyperon numbers a renamed atom's variables in the order they are first written (`(h $b $a)`:
    `$b#15 $a#16`); with a lead atom, the variables it holds first, in its order."""
    vs = numbers(rename_apart(mettadb.atom("(= (h (k $c) $b) (q $b $d $e $c))")))  # (a set's order: by the names' hashes)
    assert [n for n, _ in vs] == ["c", "b", "b", "d", "e", "c"] and vs[0][1] < vs[1][1] < vs[3][1] < vs[4][1]
    vs = numbers(rename_apart(mettadb.atom("(r $e $d $x)"), mettadb.atom("(swap (p $d $e))")))
    assert [n for n, _ in vs] == ["e", "d", "x"] and vs[1][1] < vs[0][1] < vs[2][1]


@settings(max_examples=100)
@given(query_cases())
def test_memory_space_agrees_with_the_brute_force_oracle(case):
    stored, pattern = case
    sp = MemorySpace()
    for a in stored:
        sp.add(a)
    template = Expression([Symbol("r"), *dict.fromkeys(a for a in iter_atoms(pattern) if type(a) is Variable)])
    assert Counter(canon(str(b.resolve(template))) for b in sp.query(pattern)) == brute(stored, pattern, template)


# ---------------------------------------------------------------- SpaceAtom and StateAtom


def test_rule_query_is_the_query_of_the_rule_pattern():
    """`rule_query` reads only the atoms that can match `(= call $X)`, in the same order as `query`."""
    sp = MemorySpace()
    atoms = ["(= (f 1) one)", "(fact 1)", "(= (f $x) any)", "(= (g 1) g)", "(= (f 1 2) two)", "(= $h generic)",
             "($r (f 1) lone)", "(= (f 1) again)", "$v", "(= ($h 1) varhead)", "(= f sym)"]
    for t in atoms:
        sp.add(mettadb.atom(t))
    body = Variable("X")
    for call in ("(f 1)", "(f 2)", "(g 1)", "(h)", "(f 1 2)"):
        c = mettadb.atom(call)
        want = [str(b.resolve(body)) for b in sp.query(Expression((Symbol("="), c, body)))]
        assert [str(b.resolve(body)) for b in sp.rule_query(c, body)] == want
    assert [str(b.resolve(body)) for b in sp.rule_query(mettadb.atom("(f 1)"), body)][:2] == ["one", "again"]
    sp.remove(mettadb.atom("(= (f 1) one)"))  # a change rebuilds the index
    sp.add(mettadb.atom("(= (f 1) late)"))
    got = [str(b.resolve(body)) for b in sp.rule_query(mettadb.atom("(f 1)"), body)]
    assert "one" not in got and "late" in got


def test_space_atom_is_equal_only_to_itself():
    a, b = MemorySpace(), MemorySpace()
    sa, sa2, sb = SpaceAtom(a), SpaceAtom(a), SpaceAtom(b)
    assert sa == sa2 and hash(sa) == hash(sa2) and sa != sb
    assert sa.value is a and sa.type_name == "SpaceType"
    assert str(sa) == f"GroundingSpace-0x{id(a):x}" and str(sa) != str(sb)
    assert sa != S(str(sa)) and E(S("x"), sa) == E(S("x"), sa2)


def test_state_atom_holds_a_changing_value():
    st = StateAtom(mettadb.Integer(5))
    assert st.current == mettadb.Integer(5) and str(st) == "(State 5)" and st.type_name == "StateMonad"
    h = hash(st)
    st.set(E(S("pair"), S("a"), V("x")))
    assert st.current == E(S("pair"), S("a"), V("x")) and str(st) == "(State (pair a $x))"
    assert hash(st) == h  # hashing does not follow the value
    other = StateAtom(E(S("pair"), S("a"), V("x")))
    assert st == other and hash(st) == hash(other)  # equal while they hold equal values, as in hyperon
    other.set(mettadb.Integer(5))
    assert st == st and st != other and st != StateAtom(E(S("pair"), S("a"), V("y")))


def test_states_and_spaces_in_metta(space):
    [[out]] = space.run("!(let $s (new-state 1) (let $_ (change-state! $s 2) (get-state $s)))")
    assert str(out) == "2"
    [[out]] = space.run("!(let $s (new-space) (let $_ (add-atom $s (k v)) (match $s (k $x) $x)))")
    assert str(out) == "v"
    assert len(space) == 0  # new-space is in memory: the durable space is untouched


def test_one_query_renames_by_one_map_of_names() -> None:
    """The stored atoms one query meets share a variable of one name, as in hyperon (`(a (r $t#23
    $u#24))`, `(b (r $t#23 $v#25))`); another query renames them anew; in a conjunction each
    conjunct is queried per row with a map of its own."""
    sp = MemorySpace()
    sp.add(mettadb.atom("(st a (r $t $u))"))
    sp.add(mettadb.atom("(st b (r $t $v))"))

    def ts(pattern: str, var: str) -> list[str]:
        return [n for b in sp.query(mettadb.atom(pattern)) for n in re.findall(r"\$t#\d+", str(b.resolve(V(var))))]

    first, again = ts("(st $n $x)", "x"), ts("(st $n $x)", "x")
    assert len(first) == 2 and first[0] == first[1]
    assert len(again) == 2 and again[0] == again[1] != first[0]
    rows = ts("(, (st a $x) (st $m $y))", "y")  # (the second conjunct once per row: one row here)
    assert len(rows) == 2 and rows[0] == rows[1]
    both = [str(b.resolve(V("x"))) + str(b.resolve(V("y"))) for b in sp.query(mettadb.atom("(, (st $n $x) (st b $y))"))]
    assert len(both) == 2 and len({re.findall(r"\$t#\d+", t)[1] for t in both}) == 2  # (a map per row)
