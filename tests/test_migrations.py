"""Format versions: the fixtures of every released format migrate and read; newer formats are refused."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from helpers import FIXTURE_ATOMS, FIXTURES
from mettadb.cli.main import cli

import mettadb


def test_migrating_the_format_0_fixture(tmp_path):
    space = tmp_path / "old"
    shutil.copytree(FIXTURES / "format-0", space)
    with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate`"):
        mettadb.open(space)
    with pytest.raises(mettadb.FormatVersionError, match="migrate"):
        mettadb.open(space, readonly=True)
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(space), "migrate", "--dry-run"])
    assert r.exit_code == 0 and r.stdout.splitlines() == [
        "would migrate to format 1: build the reverse index, the variable index and per-head statistics",
        "would migrate to format 2: add a second database slot for staged bulk loads"]
    r = runner.invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout.startswith("migrated to format 1")
    with mettadb.open(space) as sp:
        assert sp.format_version == 2 and sp.check() == []
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS
        assert [str(a) for a in sp.match("(parent $x Ann)", "$x")] == ["Bob", "Bob"]
    assert runner.invoke(cli, ["--db", str(space), "migrate"]).stdout == "already at format version 2\n"


def test_format_1_reads_and_migrates_for_writing(tmp_path):
    space = tmp_path / "v1"
    shutil.copytree(FIXTURES / "format-1", space)
    with mettadb.open(space, readonly=True) as sp:
        assert sp.format_version == 1
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS and sp.check() == []
    with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate` to upgrade it to 2"):
        mettadb.open(space)
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout == "migrated to format 2: add a second database slot for staged bulk loads\n"
    with mettadb.open(space) as sp:
        sp.add("(parent Ann Cid)")
        assert sp.check() == [] and len(sp) == len(FIXTURE_ATOMS) + 1


def test_current_format_fixture_still_reads(tmp_path):
    space = tmp_path / "cur"
    shutil.copytree(FIXTURES / "format-2", space)
    with mettadb.open(space, readonly=True) as sp:
        assert sp.format_version == mettadb.FORMAT_VERSION
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS and sp.check() == []


def test_newer_format_is_refused(space_path):
    with mettadb.open(space_path) as sp:
        with sp.env.begin(write=True) as txn:
            txn.put(b"format_version", b"\x63", db=sp.dbs.meta)
    with pytest.raises(mettadb.FormatVersionError, match="newer than this mettadb understands"):
        mettadb.open(space_path)
    r = CliRunner().invoke(cli, ["--db", str(space_path), "stats"])
    assert r.exit_code == 1 and "newer than this mettadb understands" in r.stderr
