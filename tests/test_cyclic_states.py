"""A state that holds itself (directly or through others), and states nested deep: printed, compared
and walked without recursion; one met again inside its own value prints as `(State …)` (hyperon
0.2.10 overflows its stack and dies of it: there is no reference output)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mettadb.atoms import Expression, Integer, Symbol, alpha_equal, equal_as_values
from mettadb.interp import format_results
from mettadb.spaces import StateAtom

SELF_STATE = "!(bind! &st (new-state 0))\n!(change-state! &st (wrap &st))\n!(get-state &st)\n"
LOG_STATE = ("!(bind! &log (new-state ()))\n!(change-state! &log (cons-atom one (get-state &log)))\n"
             "!(get-state &log)\n")


def _cli(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from mettadb.cli.main import main; main()", "--db", str(db), *args],
                          input=stdin, capture_output=True, text=True, timeout=300)


def _run(tmp_path: Path, text: str) -> str:
    script = tmp_path / "s.metta"
    script.write_text(text)
    out = _cli(tmp_path / "db", "run", str(script))
    assert out.returncode == 0 and "Error" not in out.stderr, out.stderr
    return out.stdout


def _self_holding(name: str = "wrap") -> StateAtom:
    s = StateAtom(Integer(0), Symbol("Number"))
    s.set(Expression((Symbol(name), s)))
    return s


@pytest.mark.skipif(shutil.which("metta") is None, reason="hyperon's `metta` runner is not on PATH")
@pytest.mark.parametrize("text", [SELF_STATE, LOG_STATE])
def test_hyperon_dies_where_mettadb_prints(tmp_path, text):
    (tmp_path / "h.metta").write_text(text)
    theirs = subprocess.run(["metta", str(tmp_path / "h.metta")], capture_output=True, text=True, timeout=300)
    assert theirs.returncode != 0 and theirs.stdout == "[()]\n"  # (a segmentation fault, rc 139)
    ours = _run(tmp_path, text)
    assert ours.startswith("[()]\n") and ours.count("\n") == 3


def test_a_state_holding_itself_prints_once_round(tmp_path):
    assert _run(tmp_path, SELF_STATE) == "[()]\n[(State (wrap (State …)))]\n[(wrap (State (wrap (State …))))]\n"
    assert _run(tmp_path, LOG_STATE) == ("[()]\n[(State (one get-state (State …)))]\n"
                                         "[(one get-state (State (one get-state (State …))))]\n")


def test_cyclic_states_through_the_library(tmp_path):
    """Printing (results, `repr`, `println!`, `format-args`, `trace!`), equality (`==`, `unify`, `case`,
    `=alpha`, `unique`, a match of the overlay), types, `collapse-bind`, removal: answers, no recursion."""
    text = (SELF_STATE.replace("&st", "&a") + SELF_STATE.replace("&st", "&b")
            + "!(repr &a)\n!(println! &a)\n!(format-args \"{}!\" (&a))\n!(== &a &b)\n!(unify &a &b yes no)\n"
              "!(case &a ((&b same) ($_ other)))\n!(=alpha &a &b)\n!(unique (superpose (&a &b)))\n"
              "!(get-type &a)\n!(add-atom &self (holds &a))\n!(match &self (holds &b) found)\n"
              "!(collapse-bind (get-state &a))\n!(remove-atom &self (holds &b))\n!(get-atoms &self)\n"
              "!(bind! &p (new-state 0))\n!(bind! &q (new-state 0))\n!(change-state! &p (pp &q))\n"
              "!(change-state! &q (qq &p))\n!(get-state &p)\n!(== &p &q)\n!(trace! &p ok)\n")
    s = "(State (wrap (State …)))"
    # (`println!`'s line first: `metta` prints the results at the end)
    want = [s] + ["[()]", f"[{s}]", "[(wrap (State (wrap (State …))))]"] * 2 + [
        f'["{s}"]', "[()]", f'["{s}!"]', "[True]", "[yes]", "[same]", "[True]", f"[{s}]",
        "[(StateMonad Number)]", "[()]", "[found]", "[(((wrap (State (wrap (State …)))) {  }))]", "[()]", "[]",
        "[()]", "[()]", "[(State (pp (State (qq (State …)))))]", "[(State (qq (State (pp (State …)))))]",
        "[(pp (State (qq (State (pp (State …))))))]", "[False]", "[ok]"]
    script = tmp_path / "s.metta"
    script.write_text(text)
    out = _cli(tmp_path / "db", "run", str(script))
    assert out.returncode == 0
    assert out.stdout.splitlines() == want
    assert "(State (pp (State (qq (State …)))))" in out.stderr.splitlines()  # trace!'s message


def test_the_repl_and_eval_print_cyclic_states(tmp_path):
    out = _cli(tmp_path / "db", "repl", stdin=SELF_STATE)
    assert out.returncode == 0 and out.stdout == "[()]\n[(State (wrap (State …)))]\n[(wrap (State (wrap (State …))))]\n"
    out = _cli(tmp_path / "db", "eval", "(let $s (new-state 0) (change-state! $s (w $s)))")
    assert out.returncode == 0 and out.stdout == "[(State (w (State …)))]\n"


def test_state_walks_in_python():
    a, b = _self_holding(), _self_holding()
    assert str(a) == repr(a)[len("StateAtom("):-1] == "(State (wrap (State …)))"
    assert a == b and hash(a) == hash(b) and equal_as_values(a, b) and alpha_equal(a, b)
    assert a != _self_holding("other") and Expression((Symbol("k"), a)) == Expression((Symbol("k"), b))
    assert format_results([Expression((a, b))]) == "[((State (wrap (State …))) (State (wrap (State …))))]"
    # two states holding each other: equal, as no difference is met going round
    p, q = StateAtom(Integer(0)), StateAtom(Integer(0))
    p.set(Expression((Symbol("x"), q)))
    q.set(Expression((Symbol("x"), p)))
    assert p == q
    assert str(p) == "(State (x (State (x (State …)))))"
    assert p != a


def test_deep_states_print_and_compare_without_recursion():
    def nest(n: int) -> StateAtom:
        s = StateAtom(Integer(0))
        for _ in range(n):
            s = StateAtom(Expression((Symbol("s"), s)))
        return s

    deep, twin = nest(100_000), nest(100_000)
    text = str(deep)
    assert text.startswith("(State (s (State (s ") and text.endswith("(State 0)" + "))" * 100_000)
    assert deep == twin and deep != nest(99_999)
    shared = Expression((_self_holding(), _self_holding()))  # one state twice, side by side: both printed whole
    s = _self_holding()
    assert str(Expression((s, s))) == str(shared) == "((State (wrap (State …))) (State (wrap (State …))))"


def test_states_round_through_bindings(tmp_path):
    """A state holding `collapse-bind`'s bindings that name the state: printed and compared as well
    (the printing and the comparison going round are shared by the bindings' own)."""
    text = ("!(bind! &p (new-state (a)))\n!(bind! &q (new-state (a)))\n"
            "!(let $v (collapse-bind (unify $x &p ok no)) (change-state! &p $v))\n"
            "!(let $v (collapse-bind (unify $x &q ok no)) (change-state! &q $v))\n"
            "!(get-state &p)\n!(== &p &q)\n!(unique (superpose (&p &q)))\n")
    assert _run(tmp_path, text).splitlines() == [
        "[()]", "[()]", "[(State ((ok { $x <- (State …) })))]", "[(State ((ok { $x <- (State …) })))]",
        "[((ok { $x <- (State ((ok { $x <- (State …) }))) }))]", "[True]", "[(State ((ok { $x <- (State …) })))]"]
