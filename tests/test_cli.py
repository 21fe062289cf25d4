"""The command line: exit codes, exact messages, stdout for results only."""

from __future__ import annotations

import json

from click.testing import CliRunner
from mettadb.cli.main import cli


def test_load_stats_match_dump(run, write):
    f = write("facts.metta", "(parent Tom Bob)\n(parent Tom Ann)\n(parent Bob Liz)\n!(foo)\n")
    r = run("load", str(f))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert "loaded 3 atoms: 3 added, 0 already present" in r.stderr
    assert "note: 1 `!` expression was not evaluated" in r.stderr

    r = run("match", "(parent Tom $x)", "$x")
    assert r.exit_code == 0 and sorted(r.stdout.split()) == ["Ann", "Bob"]
    r = run("match", "(parent $x $y)", "--count")
    assert r.stdout == "3\n"
    r = run("match", "(parent $x $y)", "--limit", "1")
    assert len(r.stdout.splitlines()) == 1
    r = run("match", "(, (parent $x $y) (parent $y $z))", "($x $z)")
    assert r.stdout == "(Tom Liz)\n"
    r = run("match", "(parent Tom $x)", "--json")
    assert sorted(json.loads(line)["x"] for line in r.stdout.splitlines()) == ["Ann", "Bob"]

    r = run("stats", "--json")
    st = json.loads(r.stdout)
    assert (st["atoms"], st["distinct"], st["format_version"]) == (3, 3, 4)
    r = run("stats")
    assert "distinct        3" in r.stdout and "parent" in r.stdout

    r = run("dump")
    assert sorted(r.stdout.splitlines()) == ["(parent Bob Liz)", "(parent Tom Ann)", "(parent Tom Bob)"]


def test_parse_error_is_one_line_and_exit_1(run, write, tmp_path, monkeypatch, space_path):
    bad = write("facts.metta", "(a b)\n(c d)\n)\n")
    monkeypatch.chdir(tmp_path)
    r = run("load", "facts.metta")
    assert r.exit_code == 1
    assert r.stderr == "Error: facts.metta:3:1: unexpected ')'\n"
    assert not space_path.exists()  # a failed first load leaves nothing behind
    r = run("match", "(a $x)")
    assert r.exit_code == 1 and r.stderr == f"Error: no space at {space_path} (load one with `mettadb load FILE`)\n"
    assert bad.exists()


def test_bad_pattern_and_missing_file(run, write):
    run("load", str(write("f.metta", "(a b)\n")))
    r = run("match", "(a $x")
    assert r.exit_code == 1 and r.stderr == "Error: <string>:1:1: '(' is never closed\n"
    r = run("load", "nope.metta")
    assert r.exit_code == 1 and r.stderr == "Error: nope.metta: no such file\n"


def test_default_space_in_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("METTADB_DB", raising=False)
    (tmp_path / "facts.metta").write_text("(x 1)\n")
    runner = CliRunner()
    r = runner.invoke(cli, ["load", "facts.metta"])
    assert r.exit_code == 0 and (tmp_path / "metta.db" / "data.mdb").exists()
    r = runner.invoke(cli, ["match", "(x $v)", "$v"])
    assert r.stdout == "1\n"


def test_env_var_chooses_the_space(tmp_path, monkeypatch):
    monkeypatch.setenv("METTADB_DB", str(tmp_path / "envspace"))
    (tmp_path / "f.metta").write_text("(y 2)\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["load", str(tmp_path / "f.metta")]).exit_code == 0
    assert (tmp_path / "envspace" / "data.mdb").exists()


def test_stdin_load(run):
    r = run("load", "-", input=b"(s 1)\n(s 2)\n")
    assert r.exit_code == 0
    assert run("match", "(s $x)", "--count").stdout == "2\n"


def test_every_command_has_help_with_an_example(run):
    for cmd in ("load", "match", "stats", "dump", "run", "eval", "repl", "batch", "check", "migrate", "backup",
                "export"):
        r = run(cmd, "--help", db=False)
        assert r.exit_code == 0 and "Usage:" in r.stdout and "Example:" in r.stdout, cmd
