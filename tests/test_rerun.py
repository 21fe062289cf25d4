"""Running a script again leaves the space as running it once; within one run, copies stay (as in hyperon)."""

from __future__ import annotations

import mettadb
from mettadb.interp import format_results

PROG = """(parent Tom Bob) (parent Bob Ann) (parent Bob Pat)
(= (fact $n) (if (== $n 0) 1 (* $n (fact (- $n 1)))))
(= (ancestor $x $z) (match &self (parent $x $z) $x))
(= (ancestor $x $z) (match &self (, (parent $x $y) (parent $y $z)) $x))
!(fact 10)
!(ancestor $who Ann)
"""


def _printed(results: list[list[mettadb.Atom]]) -> list[str]:
    return [format_results(r) for r in results]


def test_running_twice_prints_the_same_and_stores_each_atom_once(space):
    first = _printed(space.run(PROG))
    atoms = sorted(map(str, space.atoms()))
    second = _printed(space.run(PROG))
    assert first == second
    assert first[0] == "[3628800]" and sorted(first[1][1:-1].split(", ")) == ["Bob", "Tom"]
    assert sorted(map(str, space.atoms())) == atoms
    assert len(space) == space.distinct == 6


def test_within_one_run_copies_are_kept_as_in_hyperon(space):
    assert _printed(space.run("(a) (a)\n!(match &self (a) hit)")) == ["[hit, hit]"]
    assert space.count("(a)") == 2
    # a second run adds neither copy again: both were there before it began
    assert _printed(space.run("(a) (a)\n!(match &self (a) hit)")) == ["[hit, hit]"]
    assert space.count("(a)") == 2


def test_duplicates_restores_always_add(space):
    space.run("(a)")
    space.run("(a)", duplicates=True)
    assert space.count("(a)") == 2


def test_a_rerun_of_a_query_only_script_changes_no_generation(space):
    space.run(PROG)
    g = space.generation
    space.run(PROG)
    assert space.generation == g


def test_cli_run_twice_and_with_duplicates(run, write, space_path):
    prog = write("p.metta", "(parent Tom Bob)\n(= (kid $p) (match &self (parent $p $k) $k))\n!(kid Tom)\n")
    for _ in range(2):
        r = run("run", str(prog))
        assert r.exit_code == 0 and r.stdout == "[Bob]\n", r.output
    r = run("run", "--duplicates", str(prog))
    assert r.exit_code == 0 and r.stdout == "[Bob, Bob, Bob, Bob]\n"  # two copies of the rule, each matching two facts
    with mettadb.open(space_path, readonly=True) as sp:
        assert sp.count("(parent Tom Bob)") == 2 and len(sp) == 4


def test_cli_max_memory_stops_a_runaway_recursion(run, write):
    prog = write("loop.metta", "(= (loop $x) (+ 1 (loop $x)))\n!(loop 1)\n")
    r = run("run", "--max-memory", "32", str(prog))
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: {prog}:2: evaluation exceeded the memory limit of 32 MB at stack depth ")
    # (the depth where the limit was met: not a second limit error raised while the frames were freed)
    assert int(r.stderr.split("at stack depth ")[1].split()[0]) > 1000


def test_a_script_that_imports_into_self_can_be_run_twice(run, write, tmp_path):
    write("lib.metta", "(= (sq $x) (* $x $x))\n(color red)\n(color red)\n")
    prog = write("main.metta", "!(import! &self lib)\n!(sq 7)\n!(match &self (color $c) $c)\n")
    for _ in range(3):
        r = run("run", str(prog))
        assert r.exit_code == 0 and r.stdout == "[()]\n[49]\n[red, red]\n", r.output  # the module's copies stay


def test_a_script_that_includes_a_file_can_be_run_twice(run, write, tmp_path):
    """`include` adds the file's atoms to the space itself, as the script's own: a second run
    adds none of them again, so the space and the values stay as after the first run."""
    write("lib.metta", "(color red)\n(= (sq $x) (* $x $x))\n")
    prog = write("main.metta", "!(include lib)\n!(include lib)\n!(sq 3)\n!(match &self (color $c) $c)\n")
    r = run("run", str(prog))
    assert r.exit_code == 0 and r.stdout == "[]\n[]\n[9, 9]\n[red, red]\n", r.output  # two includes, two copies
    for _ in range(2):
        r = run("run", str(prog))
        assert r.exit_code == 0 and r.stdout == "[]\n[]\n[9, 9]\n[red, red]\n", r.output


def test_a_rerun_tells_atoms_apart_by_their_variable_names(space):
    """`(k $y)` and `(k $w)` are two atoms (hyperon's): a second script's `(k $w)` is added though the
    space holds `(k $y)`; running either script again adds nothing."""
    space.run("(k $y) (k $z) (k $y)")
    assert sorted(map(str, space.atoms())) == ["(k $y)", "(k $y)", "(k $z)"]
    space.run("(k $y) (k $z) (k $y)")
    space.run("(k $w)")
    space.run("(k $w)")
    assert sorted(map(str, space.atoms())) == ["(k $w)", "(k $y)", "(k $y)", "(k $z)"]
    assert space.distinct == 3 and len(space) == 4
    assert _printed(space.run("!(match &self (k a) hit)")) == ["[hit, hit, hit, hit]"]
