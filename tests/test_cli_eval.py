"""`mettadb run`, `eval` and `repl` from the command line."""

from __future__ import annotations


def test_run_prints_like_hyperon(run, write):
    script = write("s.metta", '(= (f $x) (* $x 2))\n!(f 3)\n!(println! "hey")\n!(car-atom ())\n!(+ 1 1)\n')
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == 'hey\n[6]\n[()]\n[(Error (car-atom ()) "car-atom expects a non-empty expression as an argument")]\n'


def test_run_commits_and_eval_reads(run, write):
    run("run", str(write("a.metta", "(parent Tom Bob)\n!(add-atom &self (parent Bob Ann))\n")))
    r = run("eval", "(match &self (, (parent $a $b) (parent $b $c)) ($a $c))")
    assert r.stdout == "[(Tom Ann)]\n"


def test_run_limit_failure_rolls_back_and_exits_1(run, write, tmp_path):
    run("load", str(write("base.metta", "(base)\n")))
    r = run("run", "--max-steps", "1000", str(write("loop.metta", "(x)\n(= (loop) (loop))\n!(loop)\n")))
    assert r.exit_code == 1
    assert r.stderr == f"Error: {tmp_path / 'loop.metta'}:3: evaluation exceeded the step limit of 1000 (in !(loop))\n"
    assert run("match", "$x", "--count").stdout == "1\n"


def test_repl_session(run):
    r = run("repl", input="(likes Ann Tea)\n!(match &self (likes Ann $x)\n   $x)\n)\n!(+ 1 2)\n")
    assert r.exit_code == 0
    assert r.stdout == "[Tea]\nError: <repl>:1:1: unexpected ')'\n[3]\n"
    assert run("match", "(likes $a $b)", "--count").stdout == "1\n"


def test_repl_tab_completion_offers_symbols_from_the_space(space):
    import io

    from mettadb.repl import Repl

    space.add_all(["(parent Tom Bob)", "(partner Ann Bob)", "(age Tom 3)"])
    repl = Repl(space, stdin=io.StringIO(""), stdout=io.StringIO())
    got = []
    state = 0
    while (word := repl._complete("pa", state)) is not None:
        got.append(word)
        state += 1
    assert got == ["parent", "partner"]
    assert repl._complete("ma", 0) == "match"


def test_type_check_auto_refuses_badly_typed_atoms_in_run_and_repl(run, write):
    script = write("t.metta", '(: foo (-> Number Number))\n!(pragma! type-check auto)\n(foo 1)\n(foo "a")\n!(+ 1 1)\n')
    r = run("run", str(script))
    assert r.exit_code == 0 and r.stdout == '[()]\n[(Error (foo "a") (BadArgType 1 Number String))]\n'
    assert run("match", "(foo $x)", "$x").stdout == "1\n"  # the good atom was added, the bad one not
    r = run("repl", input='!(pragma! type-check auto)\n(foo True)\n(foo 2)\n!(match &self (foo $x) $x)\n')
    out = r.stdout.splitlines()
    assert out[:2] == ["[()]", "[(Error (foo True) (BadArgType 1 Number Bool))]"] and out[2] in ("[1, 2]", "[2, 1]")


def test_help_prints_documentation_like_hyperon(run, write):
    script = write("d.metta", '(@doc inc (@desc "Adds one") (@params ((@param "A number"))) (@return "The number plus one"))\n'
                              '(: inc (-> Number Number))\n(: limit Number)\n(@doc limit (@desc "A constant"))\n'
                              "!(help! inc)\n!(help! limit)\n!(help! nothing)\n")
    r = run("run", str(script))
    assert r.stdout == ("Function inc: (-> Number Number) Adds one\nParameters:\n  (type Number) A number\n"
                        "Return: (type Number) The number plus one\nAtom limit: Number A constant\n"
                        "No documentation found for nothing\n[()]\n[()]\n[()]\n")


def test_repl_names_bad_bytes_and_goes_on(tmp_path):
    """Bytes that are not UTF-8 in one input: `<repl>:LINE:COL`, as files say it; the session continues."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from mettadb.cli.main import main; main()", "--db", str(tmp_path / "s"),
                          "repl"], input=b"!(+ 1 \xff)\n(a\n  \xc3\x29\n!(+ 1 2)\n", capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == ("Error: <repl>:1:7: invalid UTF-8 byte 0xff\n"
                                   "Error: <repl>:2:3: invalid UTF-8 byte 0xc3\n[3]\n")
