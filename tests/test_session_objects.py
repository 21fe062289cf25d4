"""States and spaces inside atoms of a durable space (the session overlay), internal failures, stdlib docs."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mettadb
from mettadb.interp import grounded
from mettadb.spaces import session_overlay


def test_states_and_spaces_inside_stored_atoms_work_within_the_run(run, write):
    script = write("s.metta", "\n".join([
        "!(bind! &kb (new-space))",
        "!(add-atom &kb (fact 1))",
        "!(let $s (new-state off) (add-atom &self (lamp $s)))",
        "!(add-atom &self (holds &kb))",
        "(plain 1)",
        "!(match &self (, (plain $n) (holds $k)) (match $k (fact $x) ($n $x)))",
        "!(match &self (lamp $s) (change-state! $s on))",
        "!(match &self (lamp $s) (get-state $s))",
        "(= (kb) &kb)",
        "!(match (kb) (fact $x) $x)",
        "!(remove-atom &self (holds &kb))",
        "!(match &self (holds $k) $k)",
        "",
    ]))
    r = run("run", str(script))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["[()]", "[()]", "[()]", "[()]", "[(1 1)]", "[(State on)]", "[on]", "[1]", "[()]", "[]"]


def _in_a_new_process(db, script: str) -> str:
    """What a fresh process running `script` (Python-escaped text) over the space prints: its results' atoms."""
    code = ("import mettadb\n"
            f"sp = mettadb.open({str(db)!r})\n"
            f"print([[str(a) for a in r] for r in sp.run('{script}')])\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_a_later_process_sees_only_the_stored_atoms(tmp_path):
    db = tmp_path / "db"
    with mettadb.open(db) as sp:
        sp.run("(plain 1)\n!(let $s (new-state 0) (add-atom &self (lamp $s)))\n")
        assert session_overlay(sp) is not None and len(session_overlay(sp)) == 1  # type: ignore[arg-type]
        assert sp.run("!(match &self (lamp $s) (get-state $s))\n") == [[mettadb.atom("0")]]
    assert _in_a_new_process(db, "!(get-atoms &self)\\n!(match &self (lamp $s) $s)\\n") == "[['(plain 1)'], []]\n"


def test_an_overlay_atom_keeps_its_place_among_the_stored_across_runs_and_writes_nothing(tmp_path):
    """hyperon's one trie: the state added between two stored atoms comes between them; taking its
    place reads the store's next insertion number without taking it."""
    db = tmp_path / "db"
    with mettadb.open(db) as sp:
        sp.run("(lamp a)\n(other x)\n")
        seq = sp.meta(b"seq")
        sp.run("!(let $s (new-state on) (add-atom &self (lamp $s)))\n")
        assert sp.meta(b"seq") == seq
        sp.run("(lamp b)\n")
        got = sp.run("!(match &self (lamp $x) $x)\n!(get-atoms &self)\n")
        assert [[str(a) for a in r] for r in got] == [
            ["a", "(State on)", "b"], ["(lamp a)", "(lamp (State on))", "(lamp b)", "(other x)"]]
    assert _in_a_new_process(db, "!(get-atoms &self)\\n") == "[['(lamp a)', '(lamp b)', '(other x)']]\n"


def test_an_overlay_atom_stays_before_what_is_added_after_a_rollback(tmp_path):
    """A rolled-back run gives its insertion numbers out again; the state it added stays, before the
    atoms added after it (as in hyperon, which has no rollback: the order they came in)."""
    def fail_at_foo(atom, _results):
        if str(atom) == "(foo)":
            raise RuntimeError("host")

    with mettadb.open(tmp_path / "db") as sp:
        sp.run("(x a)\n")
        with pytest.raises(RuntimeError):
            sp.run("(x b)\n(x c)\n!(let $s (new-state 1) (add-atom &self (x $s)))\n!(foo)\n", on_result=fail_at_foo)
        sp.run("(x d)\n")
        got = sp.run("!(match &self (x $v) $v)\n!(get-atoms &self)\n")
        assert [[str(a) for a in r] for r in got] == [["a", "(State 1)", "d"], ["(x a)", "(x (State 1))", "(x d)"]]


def test_an_internal_failure_is_one_line_and_rolls_back(run, write, monkeypatch):
    def boom(it, args):
        raise KeyError("no such thing")

    run("run", str(write("a.metta", "(kept)\n")))
    monkeypatch.setitem(grounded.BUILTINS, "+", (boom, ("Number", "Number"), "Number"))
    r = run("run", str(write("b.metta", "(lost)\n!(+ 1 2)\n")))
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: internal error: KeyError: 'no such thing'") and r.stderr.count("\n") == 1
    assert run("match", "$x").stdout == "(kept)\n"


def test_help_and_get_doc_answer_for_the_standard_library(run, write):
    r = run("run", str(write("d.metta", "!(help! +)\n!(get-doc &self switch)\n(@doc + (@desc \"mine\"))\n")))
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    assert out[:5] == ["Function +: (-> Number Number Number) Adds two numbers", "Parameters:",
                       "  (type Number) A number", "  (type Number) The number to add to it",
                       "Return: (type Number) Their sum"]
    assert out[6].startswith("[(@doc-formal (@item switch) (@kind function) (@type (-> %Undefined% Expression %Undefined%))")
