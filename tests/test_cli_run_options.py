"""`run --commit-each`, `run --fail-on-error` and `--timeout 0`, as --help and the README state them."""

from __future__ import annotations


def atoms(run):
    return sorted(run("dump").stdout.splitlines())


def test_commit_each_keeps_completed_bangs_and_undoes_the_failing_one(run, write):
    run("load", str(write("base.metta", "(base)\n")))
    script = write("s.metta", "(a 1)\n!(add-atom &self (b 1))\n(a 2)\n!(add-atom &self (b 2))\n"
                              "(= (loop) (loop))\n!(loop)\n(a 3)\n")
    r = run("run", "--commit-each", "--max-steps", "2000", str(script))
    assert (r.exit_code, r.stderr) == (1, f"Error: {script}:6: evaluation exceeded the step limit of 2000 (in !(loop))\n")
    assert r.stdout == "[()]\n[()]\n"  # what was committed is shown
    # the two completed `!`s and the atoms before them are kept; the rule before the failing `!` is not
    assert atoms(run) == ["(a 1)", "(a 2)", "(b 1)", "(b 2)", "(base)"]


def test_without_commit_each_a_failure_undoes_the_whole_run(run, write):
    run("load", str(write("base.metta", "(base)\n")))
    script = write("s.metta", "(a 1)\n!(add-atom &self (b 1))\n(= (loop) (loop))\n!(loop)\n")
    r = run("run", "--max-steps", "2000", str(script))
    assert (r.exit_code, r.stderr) == (1, f"Error: {script}:4: evaluation exceeded the step limit of 2000 (in !(loop))\n")
    assert r.stdout == "[()]\n"  # the results before the failure are printed, as hyperon prints them
    assert atoms(run) == ["(base)"]


def test_a_script_that_does_not_parse_prints_no_results(run, write):
    # hyperon's `metta` prints none when its parser fails (what `println!` printed stays)
    script = write("s.metta", '!(println! "x")\n!(+ 1 1)\n!(foo))\n!(+ 2 2)\n')
    r = run("run", str(script))
    assert (r.exit_code, r.stdout, r.stderr) == (1, "x\n", f"Error: {script}:3:7: unexpected ')'\n")


def test_commit_each_on_success_commits_everything(run, write):
    run("load", str(write("base.metta", "(base)\n")))
    r = run("run", "--commit-each", str(write("s.metta", "(a 1)\n!(+ 1 1)\n(a 2)\n")))
    assert (r.exit_code, r.stdout) == (0, "[2]\n")
    assert atoms(run) == ["(a 1)", "(a 2)", "(base)"]


def test_fail_on_error_exits_1_when_the_script_stops_on_an_error(run, write):
    script = write("t.metta", "(x 1)\n!(+ 1 1)\n!(car-atom ())\n!(+ 2 2)\n")
    r = run("run", str(script))
    assert r.exit_code == 0  # like hyperon's `metta`
    r = run("run", "--fail-on-error", str(script))
    assert r.exit_code == 1
    assert r.stdout == '[2]\n[(Error (car-atom ()) "car-atom expects a non-empty expression as an argument")]\n'
    assert r.stderr == (f'Error: {script}: the script stopped on an error: '
                        '(Error (car-atom ()) "car-atom expects a non-empty expression as an argument")\n')
    assert run("match", "(x $v)", "--count").stdout == "1\n"  # what ran before the error is kept
    ok = write("ok.metta", "!(+ 1 1)\n")
    assert run("run", "--fail-on-error", str(ok)).exit_code == 0
    assert "--fail-on-error" in run("run", "--help").stdout


def test_timeout_zero_means_no_limit_and_says_so(run, write):
    r = run("run", "--timeout", "0", str(write("s.metta", "!(+ 1 1)\n")))
    assert (r.exit_code, r.stdout) == (0, "[2]\n")
    for cmd in ("run", "eval", "batch"):
        assert "SECONDS (0, the default: no limit)" in " ".join(run(cmd, "--help").stdout.split()), cmd
    r = run("eval", "--timeout", "nan", "(+ 1 1)")
    assert (r.exit_code, r.stderr) == (1, "Error: Invalid value for '--timeout': not a number (see 'cli eval --help')\n")


def test_commit_each_keeps_a_new_space_that_a_completed_bang_committed(run, write, space_path):
    script = write("s.metta", "(= (loop) (loop))\n(a 1)\n!(+ 1 1)\n(b 2)\n!(loop)\n")
    r = run("run", "--commit-each", "--max-steps", "2000", str(script))
    assert (r.exit_code, r.stdout) == (1, "[2]\n")
    assert r.stderr == (f"note: created a new space at {space_path}\n"
                        f"Error: {script}:5: evaluation exceeded the step limit of 2000 (in !(loop))\n")
    assert atoms(run) == ["(= (loop) (loop))", "(a 1)"]


def test_commit_each_removes_a_new_space_when_nothing_was_committed(run, write, space_path):
    r = run("run", "--commit-each", "--max-steps", "2000", str(write("s.metta", "(a 1)\n(= (loop) (loop))\n!(loop)\n")))
    assert (r.exit_code, r.stdout) == (1, "")
    assert not (space_path / "data.mdb").exists()


def test_allow_import_names_a_directory_that_exists(run, write, tmp_path):
    script = write("s.metta", "!(+ 1 1)\n")
    r = run("run", "--allow-import", str(tmp_path / "missing"), str(script))
    assert (r.exit_code, r.stderr) == (
        1, f"Error: Invalid value for '--allow-import': Directory '{tmp_path / 'missing'}' does not exist "
           "(see 'cli run --help')\n")
    assert run("run", "--allow-import", str(tmp_path), str(script)).stdout == "[2]\n"
