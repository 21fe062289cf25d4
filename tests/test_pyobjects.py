"""hyperon's Python objects (`py-atom`, `py-dot`, `py-tuple`, `py-list`, `py-dict`, `py-chain`): the
`--allow-python` permission, mettadb's own error text, bad inputs, durable spaces and batches.

What hyperon's `metta` determines is compared in tests/conformance/py_*.metta; these are the parts
whose hyperon output holds its install paths (a Python exception's traceback) or that are mettadb's own.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import mettadb_cmd
from hypothesis import given, settings
from hypothesis import strategies as st

import mettadb
from mettadb.errors import LimitError
from mettadb.spaces import session_overlay

REFUSED = '"{0} runs Python code: allow it with --allow-python (allow_python=True from Python)"'


def caught(call: str, kind: str, message: str) -> str:
    """hyperon's error for a Python exception, as mettadb prints it: no traceback lines after `At:`."""
    return f"[(Error {call} Exception caught:\n{kind}: {message}\n\nAt:\n)]"


def test_py_atom_and_py_dot_are_refused_without_allow_python_and_stop_the_script(run, write):
    for line, call, name in [("!(py-atom math.sqrt)", "(py-atom math.sqrt)", "py-atom"),
                             ("!(py-dot (py-tuple (1)) count)", "(py-dot (1,) count)", "py-dot")]:
        script = write("s.metta", f"{line}\n!(+ 1 2)\n")
        r = run("run", str(script))
        assert r.exit_code == 0, r.output
        assert r.stdout == f"[(Error {call} {REFUSED.format(name)})]\n"


def test_the_values_built_from_atoms_need_no_permission(run, write):
    script = write("v.metta", '!(py-tuple (1 "a" (b)))\n!(py-list (1))\n!(py-dict ((a 1)))\n!(py-chain (1 2))\n')
    r = run("run", str(script))
    assert r.stdout == "[(1, 'a', (b,))]\n[[1]]\n[{'a': 1}]\n[3]\n"


def test_allow_python_on_run_and_eval(run, write):
    script = write("p.metta", "!((py-atom math.sqrt) 16)\n")
    assert run("run", "--allow-python", str(script)).stdout == "[4.0]\n"
    assert run("eval", "--allow-python", "((py-atom str.upper) \"ab\")").stdout == '["AB"]\n'
    assert run("eval", "(py-atom math.pi)").stdout == f"[(Error (py-atom math.pi) {REFUSED.format('py-atom')})]\n"
    for command in ("run", "eval"):
        assert "--allow-python" in run(command, "--help").stdout


def test_calling_a_python_operation_needs_the_permission_too(space):
    """An operation found in a run that allowed Python stays in the session overlay; a later run that
    does not allow Python may match it but not call it."""
    assert space.run("!(let $f (py-atom math.floor) (add-atom &self (op $f)))\n", allow_python=True) == [[mettadb.atom("()")]]
    got = space.run("!(match &self (op $f) ($f 2.5))\n")
    assert [str(a) for a in got[0]] == [f"(Error (math.floor 2.5) {REFUSED.format('math.floor')})"]
    assert [str(a) for a in space.run("!(match &self (op $f) ($f 2.5))\n", allow_python=True)[0]] == ["2"]


@pytest.mark.parametrize(("line", "want"), [
    ('!((py-atom math.floor) "a")', caught('(math.floor "a")', "TypeError", "must be real number, not str")),
    ('!(py-atom "ABC")', caught('(py-atom "ABC")', "RuntimeError", 'Failed to find "ABC"')),
    ("!(py-atom)", caught("(py-atom)", "TypeError", "get_py_atom() missing 1 required positional argument: 'path'")),
    ("!((py-atom dict) (Kwargs (a 1 2)))", caught("(dict (Kwargs (a 1 2)))", "RuntimeError", "Incorrect kwarg format [a, 1, 2]")),
    ("!((py-atom dict) (Kwargs a))", caught("(dict (Kwargs a))", "UnboundLocalError",
                                             "cannot access local variable 'kwarg' where it is not associated with a value")),
    ("!(py-tuple a)", caught("(py-tuple a)", "AttributeError", "'SymbolAtom' object has no attribute 'get_children'")),
    ("!(py-tuple (a +))", caught("(py-tuple (a +))", "TypeError", "Cannot get Python object of unsupported non-C atom +")),
    ("!(py-dict (((a b) 1)))", caught("(py-dict (((a b) 1)))", "TypeError", "unhashable type: 'ExpressionAtom'")),
    ("!(py-dict ((a 1 2)))", caught("(py-dict ((a 1 2)))", "Exception", "Syntax error in tuple_to_keyvalue")),
    ('!(py-chain (1 "a"))', caught('(py-chain (1 "a"))', "TypeError", "unsupported operand type(s) for |: 'int' and 'str'")),
    ("!(py-chain ())", caught("(py-chain ())", "IndexError", "list index out of range")),
    ("!(py-atom math.pi String)", caught("(py-atom math.pi String)", "AssertionError",
                                         "Grounded float 3.141592653589793 can't have a custom type String")),
    ("!(py-atom &self)", caught("(py-atom ModuleSpace(GroundingSpace-top))", "AttributeError",
                                "'SpaceRef' object has no attribute 'content'")),
    ("!(let $f (py-atom operator.add (-> $t $t $t)) ($f 1 2))", caught("(operator.add 1 2)", "AssertionError",
                                                                       "Grounded int 3 can't have a custom type $t")),
    ("!((py-atom str False) x)", "[(Error (str x) Grounded operation which is defined using unwrap=False should "
                                 "return atom instead of Python type)]"),
])
def test_a_python_exception_is_hyperons_error_without_its_traceback_and_stops_the_script(run, write, line, want):
    script = write("e.metta", f"{line}\n!(+ 1 2)\n")
    r = run("run", "--allow-python", str(script))
    assert r.exit_code == 0, r.output
    assert r.stdout == want + "\n"


_ODD_MODULE = '''
class BadRepr:
    def __repr__(self):
        raise ValueError("no repr")
    def __eq__(self, other):
        raise ValueError("no eq")
class NoStr(Exception):
    def __str__(self):
        raise ValueError("no str")
def make():
    return BadRepr()
def gen():
    yield 1
def nostr():
    raise NoStr()
def leave():
    raise SystemExit(3)
def empty():
    raise KeyError()
'''


@pytest.mark.parametrize(("line", "want"), [
    ("!((py-atom oddmod.make))", "[<BadRepr object whose repr failed>]"),
    ("!(let $x ((py-atom oddmod.make)) (== $x ((py-atom oddmod.make))))", "[False]"),
    ("!((py-atom oddmod.nostr))", caught("(oddmod.nostr)", "NoStr", "<MESSAGE UNAVAILABLE DUE TO ANOTHER EXCEPTION>")),
    ("!((py-atom oddmod.leave))", caught("(oddmod.leave)", "SystemExit", "3")),
    ("!((py-atom oddmod.empty))", caught("(oddmod.empty)", "KeyError", "<EMPTY MESSAGE>")),
    ("!(py-chain ((py-atom oddmod.gen) 1))", caught("(oddmod.gen 1)", "TypeError",
                                                     "gen() takes 0 positional arguments but 1 was given")),
    ("!((py-atom pow) 10 10000)", caught("(pow 10 10000)", "ValueError", "Exceeds the limit (4300 digits) for integer "
                                         "string conversion; use sys.set_int_max_str_digits() to increase the limit")),
    ("!((py-atom math.pi) 1)", "[(3.141592653589793 1)]"),
    ("!((py-atom math.floor) x)", "[(math.floor x)]"),
    ("!((py-atom math.floor) $y)", "[(math.floor $y)]"),
    ("!((py-atom math.floor) (1 2))", "[(math.floor (1 2))]"),
    ("!(py-dot math sqrt)", "[(py-dot math sqrt)]"),
    ("!(py-atom (1 2))", caught("(py-atom (1 2))", "RuntimeError", 'Failed to find "(1 2)"')),
    ("!(py-atom $v)", caught("(py-atom $v)", "RuntimeError", 'Failed to find "$v"')),
    ('!(py-atom "sys.exit(2)")', caught('(py-atom "sys.exit(2)")', "RuntimeError", 'Failed to find "sys.exit(2)"')),
    ("!(py-tuple (99999999999999999999999999999 -0.0 1e308))", "[(99999999999999999999999999999, -0.0, 1e+308)]"),
])
def test_bad_inputs_give_results_or_error_atoms_never_a_traceback(run, write, tmp_path, monkeypatch, line, want):
    (tmp_path / "oddmod.py").write_text(_ODD_MODULE)
    monkeypatch.chdir(tmp_path)  # (hyperon imports a module from the working directory too)
    script = write("b.metta", line + "\n")
    r = run("run", "--allow-python", str(script))
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert r.stdout == want + "\n"


def test_the_limits_stop_python_code_a_script_runs(space):
    with pytest.raises(LimitError, match="time limit"):
        space.eval(mettadb.atom('(py-atom "sum(1 for _ in iter(int, 1))")'), allow_python=True, timeout=0.3)


def test_the_time_limit_stops_python_code_that_sleeps(space):
    """A sleep uses no CPU time: the wall-clock deadline stops it all the same, and leaves no timer set."""
    start = time.monotonic()
    with pytest.raises(LimitError, match="time limit of 1"):
        space.eval(mettadb.atom('((py-atom "lambda: __import__(\'time\').sleep(100)"))'), allow_python=True, timeout=1)
    assert time.monotonic() - start < 10
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert space.eval(mettadb.atom("(+ 1 2)"), timeout=1) == [mettadb.atom("3")]


def test_mettadb_run_timeout_stops_a_python_sleep(tmp_path):
    script = tmp_path / "s.metta"
    script.write_text('!(println! start)\n!((py-atom "lambda: __import__(\'time\').sleep(100)"))\n')
    start = time.monotonic()
    r = subprocess.run(mettadb_cmd("--db", str(tmp_path / "db"), "run", "--allow-python", "--timeout", "1", str(script)),
                       capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 20
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("start\n")
    assert r.stderr.strip().splitlines()[-1].startswith("Error: ") and "time limit of 1.0 s" in r.stderr
    assert "Traceback" not in r.stderr


def test_python_values_in_a_durable_space_live_in_the_session_overlay_and_a_later_process_sees_none(space_path):
    """As states and spaces: within the process the values are matched like stored atoms; nothing is
    written (dump does not list them); a later process sees only the stored atoms, and no error."""
    with mettadb.open(space_path) as sp:
        got = sp.run("(k a)\n!(let $t (py-tuple (1 2)) (add-atom &self (k $t)))\n(k b)\n!(match &self (k $x) $x)\n",
                     allow_python=True)
        assert [str(a) for a in got[1]] == ["(1, 2)", "a", "b"]
        assert len(session_overlay(sp)) == 1  # type: ignore[arg-type]
        assert sorted(map(str, sp.atoms())) == ["(k a)", "(k b)"]
        assert [str(a) for a in sp.run("!(match &self (k $x) $x)\n")[0]] == ["(1, 2)", "a", "b"]
    code = textwrap.dedent(f"""
        import mettadb
        with mettadb.open({str(space_path)!r}) as sp:
            print([[str(a) for a in r] for r in sp.run("!(match &self (k $x) $x)\\n!(get-atoms &self)\\n")])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[['a', 'b'], ['(k a)', '(k b)']]\n"


def test_batches_refuse_allow_python_and_answer_py_atom_with_the_refusal(space):
    with pytest.raises(ValueError, match=r"^allow_python is refused for batches: batch and Dask workers do not run "
                                         r"Python code \(py-atom, py-dot\); evaluate such queries with Space.eval or "
                                         r"Space.run$"):
        space.evaluate_many(["(py-atom math.sqrt)"], jobs=0, allow_python=True)
    got = space.evaluate_many(["(py-atom math.sqrt)", "(py-list (1 2))"], jobs=0)
    assert got.lines == [f"[(Error (py-atom math.sqrt) {REFUSED.format('py-atom')})]", "[[1, 2]]"]


# ---------------------------------------------------------------- random values vs hyperon

_LEAVES = ["a", "b", "$x", "()", "0", "-7", "9223372036854775807", "1.5", "-0.0", "1e20", "True", "False",
           '"s"', '"a\\"b"', '"it\'s"', '"tab\\there"', '"é"']


def _term(draw, depth: int = 0) -> str:
    if depth > 2 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(_LEAVES))
    kids = [_term(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    return "(" + " ".join(kids) + ")"


def _expr(draw) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return f"(py-tuple {_term(draw, 1) if draw(st.booleans()) else '(' + _term(draw, 1) + ')'})"
    if kind == 1:
        return f"(py-list ({_term(draw, 1)} {_term(draw, 1)}))"
    if kind == 2:
        keys = draw(st.lists(st.sampled_from(["a", "b", '"k"', '"a"', "1", "2.5", "True"]), max_size=4))
        return "(py-dict (" + " ".join(f"({k} {_term(draw, 2)})" for k in keys) + "))"
    if kind == 3:
        return "(py-chain (" + " ".join(draw(st.lists(st.sampled_from(["1", "2", "4", "True", "0"]), min_size=1,
                                                         max_size=4))) + "))"
    if kind == 4:
        return f"((py-atom str) (py-tuple ({_term(draw, 1)})))"
    if kind == 5:
        return f"((py-atom len) (py-list {_term(draw, 1) if draw(st.booleans()) else '()'}))"
    if kind == 6:
        return f"(== (py-tuple ({_term(draw, 2)})) (py-tuple ({_term(draw, 2)})))"
    return f"(let $v (py-list ({_term(draw, 2)})) (get-type $v))"


@st.composite
def value_programs(draw):
    return "".join(f"!{_expr(draw)}\n" for _ in range(draw(st.integers(1, 6))))


@settings(max_examples=40, deadline=None)
@given(value_programs())
def test_random_python_values_print_what_hyperon_prints(tmp_path_factory, program):
    """py-tuple, py-list, py-dict, py-chain and Python calls over random atoms (symbols, variables,
    numbers of each spelling, strings with quotes and escapes, nested expressions): the same text."""
    hyperon = pytest.importorskip("hyperon")
    with mettadb.open(tmp_path_factory.mktemp("py") / "space") as sp:
        ours = [[str(a) for a in r] for r in sp.run(program, allow_python=True)]
    # (an error stops both; hyperon's lists its Python frames after `At:`, which mettadb leaves out)
    theirs = [[re.sub(r"\nAt:\n.*\Z", "\nAt:\n)", str(a), flags=re.S) for a in r] for r in hyperon.MeTTa().run(program)]
    assert ours == theirs, program


def test_fail_on_error_names_a_python_exception_on_one_line(run, write):
    script = write("f.metta", '!((py-atom math.floor) "a")\n')
    r = run("run", "--allow-python", "--fail-on-error", str(script))
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == (f"Error: {script}: the script stopped on an error: (Error (math.floor \"a\") "
                                         "Exception caught:\\nTypeError: must be real number, not str\\n\\nAt:\\n)")


def test_a_python_float_stored_in_a_durable_space_is_the_number_read_back_by_hyperons_rule(space):
    """Stored as the number it is (the same key as the script's `1e20`); read back it prints as
    hyperon prints its own numbers (README: `1e20`, not Python's `1e+20`)."""
    got = space.run('!(let $f ((py-atom float) "1e20") (add-atom &self (w $f)))\n'
                    '!(let $f ((py-atom float) "nan") (add-atom &self (w $f)))\n'
                    "!(match &self (w 1e20) yes)\n!(match &self (w $x) $x)\n", allow_python=True)
    assert [[str(a) for a in r] for r in got] == [["()"], ["()"], ["yes"], ["1e20", "NaN"]]
    assert sorted(map(str, space.atoms())) == ["(w 1e20)", "(w NaN)"]


@pytest.mark.parametrize("arg, kind", [("a", "SymbolAtom"), ("$x", "VariableAtom"), ('"ab"', "GroundedAtom"),
                                       ("1", "GroundedAtom"), ("'a'", "GroundedAtom"), ("+", "GroundedAtom")])
def test_chars_to_string_of_no_expression_is_hyperons_python_exception(run, write, arg, kind):
    """hyperon 0.2.10's `charsToString` is Python that asks its argument for its children; an atom
    with none fails there, as a caught exception (which stops the script), whatever the permission."""
    script = write("c.metta", f"!(charsToString {arg})\n!(+ 1 2)\n")
    r = run("run", str(script))
    assert r.exit_code == 0, r.output
    assert r.stdout == caught(f"(charsToString {arg})", "AttributeError",
                              f"'{kind}' object has no attribute 'get_children'") + "\n"


@pytest.mark.parametrize("timeout", ["1e23", "99999999999999999999999"])
def test_a_timeout_past_what_the_real_time_timer_takes_leaves_it_to_the_cpu_ticks(run, write, timeout):
    """(the platform's timer refuses such a wait: no half-set watch, no error)"""
    script = write("t.metta", "!(+ 1 1)\n")
    for _ in range(2):
        r = run("run", "--timeout", timeout, str(script))
        assert (r.exit_code, r.stdout) == (0, "[2]\n") and "Error" not in r.stderr, r.output
