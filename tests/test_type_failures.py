"""How an ill-typed application's failures travel through the type checker (hyperon 0.2.10's order).

The conformance scripts `several_types_nested`, `several_types_expected`, `help_type_variables`
and `help_several_types` hold hyperon's own output for these; the tests here look at the parts.
"""

from __future__ import annotations

import mettadb
from mettadb.interp import format_results
from mettadb.interp.inference import Failed, atom_entries, check_call
from mettadb.parser import parse_atom

DECLS = """
(: g (-> Number Number))
(: g (-> String String))
(: s (-> String Bool))
(: b (-> Bool Number))
(: b (-> Number Bool))
(: u (-> %Undefined% Number))
(= (g $x) $x)
(= (s $x) False)
(= (b $x) 7)
"""


def _checker(space: mettadb.Space):  # type: ignore[no-untyped-def]
    """The type checker of an interpreter over `space` (after its declarations are loaded)."""
    from mettadb.interp.driver import Interpreter

    return Interpreter(space).types


def test_failures_are_entries_in_hyperons_order(space: mettadb.Space) -> None:
    space.run(DECLS)
    tc = _checker(space)
    entries, failed = atom_entries(parse_atom("(b 1)"), tc)
    assert failed
    assert isinstance(entries[0], Failed) and str(entries[0].error) == "(Error (b 1) (BadArgType 1 Bool Number))"
    assert str(entries[0].fn) == "(-> Bool Number)"
    assert str(entries[1]) == "Bool"
    # types_of leaves the failures out; entries_of keeps them
    assert [str(t) for t in tc.types_of(parse_atom("(b 1)"))] == ["Bool"]
    assert len(tc.entries_of(parse_atom("(b 1)"))) == 2


def test_a_failure_counts_as_its_function_type_further_out(space: mettadb.Space) -> None:
    space.run(DECLS)
    tc = _checker(space)
    assert [str(t) for t in tc.types_of(parse_atom("(id (s 1))"))] == ["(-> String Bool)"]
    assert [str(t) for t in tc.types_of(parse_atom("(1 (s 1))"))] == ["(Number (-> String Bool))"]
    # a `%Undefined%` parameter takes an argument as it is: no way of its own per entry
    assert [str(t) for t in tc.types_of(parse_atom("(u (s 1))"))] == ["Number"]
    # an element with no type leaves a tuple type out, a declared %Undefined% does not
    assert [str(t) for t in tc.types_of(parse_atom("(1 x)"))] == ["%Undefined%"]
    assert [str(t) for t in tc.types_of(parse_atom("(1 (let $w 1 2))"))] == ["(Number %Undefined%)"]


def test_failures_grow_with_the_nesting(space: mettadb.Space) -> None:
    space.run(DECLS)
    tc = _checker(space)
    call = parse_atom("(g (g (g True)))")
    entries, _ = atom_entries(call, tc)
    assert len(entries) == 8 and all(isinstance(e, Failed) for e in entries)


def test_call_check_reports_each_way_and_the_return_type(space: mettadb.Space) -> None:
    space.run(DECLS)
    tc = _checker(space)
    num, string, boolean = (parse_atom(t) for t in ("Number", "String", "Bool"))
    # a call check: every entry that does not fit is reported, an argument's failure as its own error
    _, bad = check_call((string,), (parse_atom("(b 1)"),), tc.types_of, entries_of=tc.entries_of)
    assert [str(m) if not isinstance(m, tuple) else m for m in bad] == [
        "(Error (b 1) (BadArgType 1 Bool Number))", (1, string, boolean)]
    # with the type the context expects, a way through the arguments can still fail at the end
    _, bad = check_call((num,), (parse_atom("1"),), tc.types_of, entries_of=tc.entries_of, ret=boolean, expect=string)
    assert bad == [(0, string, boolean)]


def test_script_output(space: mettadb.Space) -> None:
    got = [format_results(r) for r in space.run(DECLS + '!(collapse (+ 1 (g "s")))\n!(collapse (s (g 1)))\n')]
    assert got == ['[((Error (g "s") (BadArgType 1 Number String)) (Error (+ 1 (g "s")) (BadArgType 2 Number String)))]',
                   "[((Error (s (g 1)) (BadArgType 1 String Number)) (Error (g 1) (BadArgType 1 String Number)))]"]
