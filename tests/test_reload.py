"""Loading files again: a set-union load of files the space noted (loaded whole since its last removal)
reads their bytes only; anything that may have made the note untrue makes the load parse again."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from mettadb.cli.main import cli

import mettadb

FACTS = "".join(f"(parent P{i} P{i + 1})\n(age P{i} {i % 90})\n" for i in range(3000)) + "!(parent P1 $x)\n"


def _paths(sp, tmp_path):
    out = tmp_path / "kb.paths"
    with open(out, "wb") as f:
        sp.export(f, fmt="paths")
    return out


@pytest.fixture(params=["single", "bulk"])
def bulk(request):
    return request.param == "bulk"


def test_the_same_file_again_is_recognised_and_writes_nothing(tmp_path, write, bulk):
    kb = write("kb.metta", FACTS)
    with mettadb.open(tmp_path / "s") as sp:
        first = sp.load(kb, bulk=bulk)
        assert (first.added, first.bangs) == (6000, 1)
        size, gen = os.path.getsize(tmp_path / "s" / "data.mdb"), sp.generation
        again = sp.load(kb, bulk=bulk)
        assert (again.mode, again.read, again.added, again.present, again.bangs) == ("unchanged", 6000, 0, 6000, 1)
        assert again.bytes_read == os.path.getsize(kb)
        assert sp.generation == gen and os.path.getsize(tmp_path / "s" / "data.mdb") == size
        copy = write("copy.metta", FACTS)  # the contents are what is recognised, not the name
        assert sp.load(copy, bulk=bulk).mode == "unchanged"
        assert sp.check() == [] and sp.stats()["atoms"] == 6000


def test_a_removal_forgets_what_was_loaded(tmp_path, write, bulk):
    kb = write("kb.metta", FACTS)
    with mettadb.open(tmp_path / "s") as sp:
        sp.load(kb, bulk=bulk)
        sp.add("(other 1)")  # adding keeps the note
        assert sp.load(kb, bulk=bulk).mode == "unchanged"
        assert sp.remove("(age P7 7)")
        again = sp.load(kb, bulk=bulk)
        assert again.mode != "unchanged" and (again.added, again.present) == (1, 5999)
        assert sp.load(kb, bulk=bulk).mode == "unchanged"  # noted again by the load that added the atom back
        sp.clear()
        assert sp.load(kb, bulk=bulk).added == 6000
        assert sp.check() == []


def test_a_removal_rolled_back_keeps_the_note(tmp_path, write):
    kb = write("kb.metta", FACTS)
    with mettadb.open(tmp_path / "s") as sp:
        sp.load(kb)
        with pytest.raises(RuntimeError), sp.transaction():
            sp.remove("(age P7 7)")
            raise RuntimeError
        assert sp.load(kb).mode == "unchanged"


def test_a_changed_file_is_loaded(tmp_path, write, bulk):
    kb = write("kb.metta", FACTS)
    with mettadb.open(tmp_path / "s") as sp:
        sp.load(kb, bulk=bulk)
        kb.write_text(FACTS.replace("(age P5 5)", "(age P5 6)"))  # same size, other contents
        again = sp.load(kb, bulk=bulk)
        assert (again.mode, again.added) != ("unchanged", 0) and again.added == 1
        assert [str(a) for a in sp.match("(age P5 $a)", "$a")] == ["5", "6"]


def test_a_file_changed_during_its_load_is_not_noted(tmp_path, write):
    big = "".join(f"(age P{i} {i % 90})\n" for i in range(70_000))
    kb = write("kb.metta", big)

    def touch(done_bytes, atoms):
        os.utime(kb, ns=(1, 1))  # what a writer appending to the file would do to its time

    with mettadb.open(tmp_path / "s") as sp:
        assert sp.load(kb, bulk=False, progress=touch).added == 70_000
        again = sp.load(kb, bulk=False)
        assert again.mode != "unchanged" and again.present == 70_000


def test_several_files_are_recognised_together_only(tmp_path, write):
    a, b = write("a.metta", "(a 1)\n"), write("b.metta", "(b 1)\n")
    with mettadb.open(tmp_path / "s") as sp:
        sp.load(a, b)
        assert sp.load(a, b).mode == "unchanged"
        assert sp.load(b, a).mode != "unchanged"  # another order: another input (still adds nothing)
        assert sp.load(a).mode != "unchanged"


def test_duplicates_and_streams_are_always_read(tmp_path, write):
    kb = write("kb.metta", "(a 1)\n")
    with mettadb.open(tmp_path / "s") as sp:
        sp.load(kb)
        assert sp.load(kb, duplicates=True).mode != "unchanged"
        assert len(sp) == 2  # a second copy
        with open(kb, "rb") as f:
            assert sp.load(f).mode != "unchanged"


def test_paths_dumps_are_recognised(tmp_path, write):
    with mettadb.open(tmp_path / "src") as src:
        src.load(write("kb.metta", FACTS))
        dump = _paths(src, tmp_path)
    with mettadb.open(tmp_path / "s") as sp:
        assert sp.load_paths(dump).added == 6000
        assert sp.load_paths(dump).mode == "unchanged"
        sp.remove("(age P7 7)")
        assert (sp.load_paths(dump).added, sp.load_paths(dump).mode) == (1, "unchanged")


def test_the_cli_reports_a_recognised_reload(tmp_path, write):
    kb = write("kb.metta", FACTS)
    db = str(tmp_path / "s")
    assert CliRunner().invoke(cli, ["--db", db, "load", str(kb)]).exit_code == 0
    r = CliRunner().invoke(cli, ["--db", db, "load", str(kb)])
    assert r.exit_code == 0, r.output
    assert "loaded 6,000 atoms: 0 added, 6,000 already present" in r.stderr
    r = CliRunner().invoke(cli, ["--db", db, "stats"])
    assert r.exit_code == 0 and "6,000" in r.output
