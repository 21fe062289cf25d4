"""`mettadb repl` as a user drives it: MeTTa piped into the real CLI's standard input."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mettadb.parser import InputLines, is_complete


def _cli(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from mettadb.cli.main import main; main()", "--db", str(db), *args],
                          input=stdin, capture_output=True, text=True, timeout=300)


def _repl(db: Path, text: str) -> str:
    out = _cli(db, "repl", stdin=text)
    assert out.returncode == 0, out.stderr
    assert "Error: internal error" not in out.stdout + out.stderr
    return out.stdout


def _nest(n: int) -> str:
    return "(a " * n + "x" + ")" * n


def test_repl_reads_10000_levels_on_one_line(tmp_path):
    """The completeness check is the scanner's, with no recursion: 10,000 levels, as `run` reads them
    (pyparsing's grammar failed from about 60)."""
    deep = _nest(10_000)
    text = f"(size-atom {deep})\n!(size-atom {deep})\n(deep {deep})\n!(match &self (deep $x) ok)\n!{deep}\n"
    out = _repl(tmp_path / "s", text).splitlines()
    assert out == ["[2]", "[ok]", f"[{deep}]"]
    checked = (f"!(pragma! type-check auto)\n(deep {deep})\n!(bind! &s (new-state 0))\n(holds &s {deep})\n"
               f"!(match &self (holds $s $d) (get-state $s))\n!(== {deep} {deep})\n!(repr (size-atom {deep}))\n")
    (tmp_path / "d.metta").write_text(text)
    assert _cli(tmp_path / "r", "run", str(tmp_path / "d.metta")).stdout.splitlines() == out
    out = _repl(tmp_path / "c", checked).splitlines()
    assert out == ["[()]", "[()]", "[0]", "[True]", f'["(size-atom {deep})"]']


def test_repl_reads_10000_levels_over_10000_lines(tmp_path):
    """A deep expression pasted one level a line: continued until complete, in linear time."""
    n = 10_000
    text = "!(size-atom\n" + "  (a\n" * n + "x\n" + ")\n" * n + ")\n!(+ 1 2)\n"
    assert _repl(tmp_path / "s", text) == "[2]\n[3]\n"


def test_input_lines_agree_with_is_complete():
    """Line by line, the REPL's reading says what the scanner says of the whole text so far."""
    inputs = ["(parent Tom", "  Bob)", '(a "open', 'still)" b)', "!", "(+ 1 2)", ")", "(a ; (", ")",
              '(a "\\q" (', "(a \x00 (", '(s "x\\"("', ")", "(a", "", "b)", "x y (z", ")"]
    lines = InputLines()
    for line in inputs:
        done = lines.add(line)
        assert done == is_complete(lines.text()), lines.text()
        if done:
            lines = InputLines()
    assert not is_complete("(parent Tom") and not is_complete('(a "open') and not is_complete("!")
    assert is_complete("(parent Tom Bob)") and is_complete(")") and is_complete('(a "\\q" (')
    assert is_complete(_nest(100_000))
    assert not is_complete("(" * 100_000)


def _run(db: Path, text: str, tmp: Path) -> str:
    script = tmp / f"script{len(list(tmp.glob('script*')))}.metta"
    script.write_text(text)
    out = _cli(db, "run", str(script))
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_repl_plain_atom_holds_the_state_its_token_names(tmp_path):
    """`(= (f) &s)` after `!(bind! &s (new-state 0))` holds the state, as hyperon's parser reads it and as
    `mettadb run` adds it: kept in the session overlay, never stored (a later session has no `(f)`)."""
    text = "!(bind! &s (new-state 0))\n(= (f) &s)\n!(get-state (f))\n!(get-atoms &self)\n"
    want = "[()]\n[0]\n[(= (f) (State 0))]\n"  # hyperon 0.2.10's `metta`
    assert _repl(tmp_path / "repl", text) == want
    assert _run(tmp_path / "run", text, tmp_path) == want
    for db in ("repl", "run"):
        assert _repl(tmp_path / db, "!(f)\n!(get-atoms &self)\n") == "[(f)]\n[]\n"


def test_repl_items_are_a_scripts(tmp_path):
    """A REPL session prints what `mettadb run` of the same lines prints, and leaves the same space."""
    scripts = [
        # tokens naming a space and a state; a regex; `&self` stays the symbol
        '!(bind! &sp (new-space))\n!(add-atom &sp (in sp))\n(bar &sp)\n!(match &self (bar $y) (match $y (in $z) $z))\n'
        '!(bind! &c (new-state 1))\n(cell &c)\n!(match &self (cell $s) (get-state $s))\n'
        '(baz regex:"a.c")\n!(match &self (baz abc) yes)\n(me &self)\n!(get-atoms &self)\n',
        # tokens naming values: replaced by them (`PI` too), as hyperon's parser replaces them
        "!(bind! &x 5)\n!(bind! &e (a b))\n(foo &x &e PI)\n!(match &self (foo $y $z $w) ($y $z $w))\n"
        "!(get-atoms &self)\n",
        # `type-check auto`: an ill-typed `!` expression's errors are its results, as `run` gives them
        '(: foo (-> Number Number))\n!(pragma! type-check auto)\n(foo 1)\n!(foo "a")\n',
        # copies within a session are kept
        "(k 1)\n(k 1)\n!(add-atom &self (k 1))\n!(get-atoms &self)\n",
    ]
    for i, text in enumerate(scripts):
        repl_db, run_db = tmp_path / f"repl{i}", tmp_path / f"run{i}"
        got, want = (re.sub("0x[0-9a-f]+", "0x?", t) for t in (_repl(repl_db, text), _run(run_db, text, tmp_path)))
        assert got == want, text
        assert _cli(repl_db, "dump", "-").stdout == _cli(run_db, "dump", "-").stdout


def test_repl_does_not_add_again_what_the_space_held(tmp_path):
    """As `run` does: an atom held before the session is not added again; one a rolled-back input
    added and took back still counts as held before."""
    db, run_db = tmp_path / "s", tmp_path / "r"
    _repl(db, "(k 1)\n(j 1)\n")
    _run(run_db, "(k 1)\n(j 1)\n", tmp_path)
    text = "(k 1)\n(k 2)\n!(get-atoms &self)\n"
    assert _repl(db, text) == _run(run_db, text, tmp_path) == "[(k 1), (k 2), (j 1)]\n"
    out = _repl(db, '!(let $_ (add-atom &self (j 1)) (unify x regex:"[[a" a b))\n(j 1)\n!(get-atoms &self)\n')
    assert out.splitlines()[0].startswith("Error: ") and out.splitlines()[1:] == ["[(k 1), (k 2), (j 1)]"]


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
def test_tokens_in_plain_atoms_as_hyperon(tmp_path):
    """Every token a plain atom holds is replaced by what it names, as hyperon's parser replaces it:
    stored so (a value) or kept in the overlay (a state); `&self` stays the symbol (README)."""
    text = ("(k PI)\n!(bind! &x 5)\n!(bind! &e (a b))\n(foo &x)\n(bar (&e EXP))\n"
            "!(bind! &s (new-state 0))\n(= (f) &s)\n!(get-state (f))\n!(get-atoms &self)\n")
    (tmp_path / "t.metta").write_text(text)
    theirs = subprocess.run(["metta", str(tmp_path / "t.metta")], capture_output=True, text=True, timeout=300)
    assert theirs.returncode == 0, theirs.stderr
    assert _run(tmp_path / "run", text, tmp_path) == _repl(tmp_path / "repl", text) == theirs.stdout
    assert _repl(tmp_path / "run", "!(get-atoms &self)\n") == "[(k 3.141592653589793), (foo 5), (bar ((a b) 2.718281828459045))]\n"
