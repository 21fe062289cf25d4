"""States and spaces inside atoms of a durable space (the session overlay), internal failures, stdlib docs."""

from __future__ import annotations

import subprocess
import sys

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


def test_a_later_process_sees_only_the_stored_atoms(tmp_path):
    db = tmp_path / "db"
    with mettadb.open(db) as sp:
        sp.run("(plain 1)\n!(let $s (new-state 0) (add-atom &self (lamp $s)))\n")
        assert session_overlay(sp) is not None and len(session_overlay(sp)) == 1  # type: ignore[arg-type]
        assert sp.run("!(match &self (lamp $s) (get-state $s))\n") == [[mettadb.atom("0")]]
    code = ("import mettadb, sys\n"
            f"sp = mettadb.open({str(db)!r})\n"
            "print([[str(a) for a in r] for r in sp.run('!(get-atoms &self)\\n!(match &self (lamp $s) $s)\\n')])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[['(plain 1)'], []]\n"


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
