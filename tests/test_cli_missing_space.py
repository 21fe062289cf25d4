"""A missing space is an error for every command that reads; load, run and repl create one and say so."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("argv", [["eval", "(match &self (parent Tom $x) $x)"], ["match", "(parent Tom $x)"],
                                  ["batch", "QUERIES"], ["stats"], ["dump"], ["export", "-"], ["check"],
                                  ["backup", "DEST"]])
def test_a_mistyped_db_is_an_error_and_creates_nothing(run, write, space_path, tmp_path, argv):
    q = write("q.metta", "!(+ 1 1)\n")
    argv = [str(q) if a == "QUERIES" else str(tmp_path / "copy") if a == "DEST" else a for a in argv]
    r = run(*argv)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == f"Error: no space at {space_path} (load one with `mettadb load FILE`)\n"
    assert not space_path.exists()


def test_load_run_and_repl_create_the_space_and_say_so(run, write, space_path):
    r = run("load", str(write("f.metta", "(a 1)\n")))
    assert r.exit_code == 0
    assert r.stderr.splitlines()[0] == f"note: created a new space at {space_path}"
    r = run("load", str(write("g.metta", "(a 2)\n")))
    assert "created" not in r.stderr  # only the first time

    other = space_path.parent / "other.db"
    r = run("--db", str(other), "run", str(write("s.metta", "(b 1)\n!(+ 1 2)\n")), db=False)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "[3]\n", f"note: created a new space at {other}\n")
    r = run("--db", str(other), "run", str(write("s2.metta", "!(+ 1 2)\n")), db=False)
    assert (r.stdout, r.stderr) == ("[3]\n", "")

    third = space_path.parent / "third.db"
    r = run("--db", str(third), "repl", input="(c 1)\n", db=False)
    assert r.exit_code == 0 and r.stderr == f"note: created a new space at {third}\n"


def test_a_failed_first_run_leaves_no_space_behind(run, write, space_path):
    script = write("loop.metta", "(x)\n(= (loop) (loop))\n!(loop)\n")
    r = run("run", "--max-steps", "100", str(script))
    assert (r.exit_code, r.stderr) == (1, f"Error: {script}:3: evaluation exceeded the step limit of 100 (in !(loop))\n")
    assert not space_path.exists()


def test_a_db_path_that_is_a_file(run, write):
    f = write("f.metta", "(a 1)\n")
    r = run("--db", str(f), "load", str(f), db=False)
    assert (r.exit_code, r.stderr) == (1, f"Error: {f} is not a directory\n")
    r = run("--db", str(f), "stats", db=False)
    assert (r.exit_code, r.stderr) == (1, f"Error: no space at {f} (load one with `mettadb load FILE`)\n")
    assert f.read_text() == "(a 1)\n"
