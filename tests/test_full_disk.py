"""A full disk is a one-line error and leaves the space as it was (root only: mounts a small tmpfs)."""

from __future__ import annotations

import os
import subprocess

import pytest
from click.testing import CliRunner
from mettadb.cli.main import cli

import mettadb
import mettadb.bulk


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_a_full_disk_is_a_clear_error_and_changes_nothing(tmp_path, mode):
    """A 4 MiB tmpfs holds the space; a load that needs more fails cleanly (root only: it mounts)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        space = mnt / "space"
        with mettadb.open(space) as sp:
            sp.add_all(["(keep 1)", "(keep 2)"])
        big = tmp_path / "big.metta"
        big.write_text("".join(f"(fact {i} {'x' * 60})\n" for i in range(100_000)))
        r = CliRunner().invoke(cli, ["--db", str(space), "load", mode, str(big)])
        assert r.exit_code == 1
        assert r.stderr.startswith("Error: ") and ("no space left" in r.stderr or "size cap" in r.stderr)
        assert len(r.stderr.splitlines()) == 1
        with mettadb.open(space, readonly=True) as sp:
            assert sp.check() == []
            assert sorted(map(str, sp.atoms())) == ["(keep 1)", "(keep 2)"]
    finally:
        subprocess.run(["umount", str(mnt)])


def test_a_full_disk_while_a_bulk_load_spills_its_runs(tmp_path, monkeypatch):
    """The sorted runs live beside the space: no room for them is the same clear error, space unchanged."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 5000)
        space = mnt / "space"
        with mettadb.open(space) as sp:
            sp.add_all(["(keep 1)", "(keep 2)"])
        big = tmp_path / "big.metta"
        big.write_text("".join(f"(fact {i} {'x' * 60})\n" for i in range(100_000)))
        r = CliRunner().invoke(cli, ["--db", str(space), "load", "--bulk", str(big)])
        assert r.exit_code == 1
        assert r.stderr == (f"Error: no space left on the device holding {space} for the load's sorted runs; "
                            "the space is unchanged\n")
        assert not [n for n in os.listdir(space) if n.startswith(".load-")]
        with mettadb.open(space, readonly=True) as sp:
            assert sp.check() == []
            assert sorted(map(str, sp.atoms())) == ["(keep 1)", "(keep 2)"]
    finally:
        subprocess.run(["umount", str(mnt)])
