"""File modes and read-only spaces."""

from __future__ import annotations

import os
import subprocess

import pytest
from click.testing import CliRunner
from helpers import contents, mettadb_cmd
from mettadb.cli.main import cli


def test_new_space_mode_option(tmp_path):
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "shared"), "--mode", "644", "load", "-"], input=b"(a)\n")
    assert r.exit_code == 0
    assert oct(os.stat(tmp_path / "shared" / "data.mdb").st_mode & 0o777) == "0o644"


def test_a_space_you_may_only_read_opens_read_only_with_a_note(tmp_path):
    """A read-only bind mount makes the space unwritable even for root (the test runs as root here and in CI)."""
    space = tmp_path / "shared"
    r = CliRunner().invoke(cli, ["--db", str(space), "load", "-"], input=b"(fact 1)\n(fact 2)\n")
    assert r.exit_code == 0
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(space), str(ro)], capture_output=True).returncode == 0
    if not mounted or subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True).returncode:
        if mounted:
            subprocess.run(["umount", str(ro)])
        pytest.skip("cannot make a read-only bind mount here")
    try:
        out = subprocess.run(mettadb_cmd("--db", str(ro), "match", "(fact $x)", "$x"), capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert sorted(out.stdout.split()) == ["1", "2"]
        assert "opened read-only" in out.stderr
        out = subprocess.run(mettadb_cmd("--db", str(ro), "load", "-"), input="(fact 3)\n", capture_output=True,
                             text=True)
        assert out.returncode == 1
        assert out.stderr == f"Error: {ro} is not writable by you\n"  # one line: no note before it
    finally:
        subprocess.run(["umount", str(ro)])
    assert contents(space) == [("(fact 1)", 1), ("(fact 2)", 1)]
