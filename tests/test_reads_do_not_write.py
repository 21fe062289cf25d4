"""Reads never write: evaluation that changes nothing, query-only scripts and loads that add nothing
leave the generation alone, so a replica made before them is still accepted."""

from __future__ import annotations

import os

import pytest

import mettadb


def test_eval_that_changes_nothing_keeps_the_generation(space):
    space.add("(parent Tom Bob)")
    g = space.generation
    assert space.eval("(+ 1 2)") == [mettadb.Integer(3)]
    assert [str(a) for a in space.eval("(match &self (parent Tom $x) $x)")] == ["Bob"]
    assert space.generation == g
    space.eval("(add-atom &self (parent Bob Ann))")
    assert space.generation == g + 1


def test_a_load_that_adds_nothing_commits_nothing(space, write):
    f = write("f.metta", "(a 1)\n(a 2)\n")
    space.load(f)
    g = space.generation
    size = os.path.getsize(os.path.join(space.path, "data.mdb"))
    report = space.load(f)
    assert (report.added, report.present) == (0, 2)
    assert space.generation == g
    assert os.path.getsize(os.path.join(space.path, "data.mdb")) == size


def test_an_empty_transaction_commits_nothing(space):
    g = space.generation
    with space.transaction():
        assert space.remove("(absent)") is False
    assert space.generation == g


@pytest.mark.parametrize("args", [
    ["eval", "(+ 1 2)"],
    ["eval", "(match &self (parent Tom $x) $x)"],
    ["run", "QUERIES"],
    ["load", "FACTS"],
])
def test_a_replica_stays_acceptable_after_read_only_commands(tmp_path, run, space_path, write, args):
    facts = write("facts.metta", "(parent Tom Bob)\n(parent Bob Ann)\n")
    queries = write("q.metta", "!(match &self (parent $x Ann) $x)\n")
    assert run("load", str(facts)).exit_code == 0
    assert run("backup", str(tmp_path / "rep1")).exit_code == 0
    argv = [str(facts) if a == "FACTS" else str(queries) if a == "QUERIES" else a for a in args]
    assert run(*argv).exit_code == 0
    with mettadb.open(space_path, readonly=True) as live, mettadb.open(tmp_path / "rep1", readonly=True) as rep:
        assert live.generation == rep.generation


