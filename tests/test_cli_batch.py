"""`mettadb batch`: only `!` lines are queries; a batch never writes."""

from __future__ import annotations


def test_plain_atoms_are_refused_with_their_line(run, write):
    run("load", str(write("f.metta", "(parent Tom Bob)\n")))
    q = write("q.metta", "; queries\n!(match &self (parent Tom $x) $x)\n\n  (= (f $x) $x) ; a rule\n!(f 1)\n")
    r = run("batch", str(q))
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == (f"Error: {q}:4: (= (f $x) $x) is not a query: a batch only evaluates `!` lines "
                        "(load facts and rules with `mettadb load`)\n")
    assert run("match", "$x", "--count").stdout == "1\n"


def test_only_bang_lines_are_evaluated(run, write):
    run("load", str(write("f.metta", "(parent Tom Bob)\n(= (f $x) (g $x))\n")))
    q = write("q.metta", "!(match &self (parent Tom $x) $x)\n! (f 1)\n!\n(+ 1 2)\n")
    r = run("batch", str(q))
    assert (r.exit_code, r.stdout) == (0, "[Bob]\n[(g 1)]\n[3]\n")
    assert r.stderr.startswith("batch: 3 queries, 0 workers, version 1, ")
    r = run("batch", str(write("one.metta", "!(+ 1 1)\n")))
    assert r.stderr.startswith("batch: 1 query, 0 workers, ")


def test_a_last_bang_with_nothing_after_it_is_dropped_as_run_drops_it(run, write):
    run("load", str(write("f.metta", "(a 1)\n")))
    q = write("q.metta", "!(+ 1 1)\n!\n")
    r = run("batch", str(q))
    assert (r.exit_code, r.stdout) == (0, "[2]\n")
    assert run("run", str(q)).stdout == "[2]\n"
    r = run("batch", str(write("mid.metta", "!\n)\n")))
    assert r.exit_code == 1 and r.stderr.startswith("Error: ")


def test_allow_import_is_not_an_option_of_batch(run, write, tmp_path):
    """Each query of a batch is evaluated on its own and read-only, so an import could not serve the next one."""
    run("load", str(write("f.metta", "(a 1)\n")))
    r = run("batch", "--allow-import", str(tmp_path), str(write("q.metta", "!(+ 1 1)\n")))
    assert (r.exit_code, r.stderr) == (1, "Error: No such option '--allow-import' (see 'cli batch --help')\n")
    assert "--allow-import" not in run("batch", "--help").stdout
