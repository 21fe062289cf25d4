"""`Space.check()` and `mettadb check`: a sound space reports nothing, each kind of damage is reported."""

from __future__ import annotations

from click.testing import CliRunner
from mettadb.cli.main import cli

import mettadb


def test_check_finds_corruption(space_path):
    with mettadb.open(space_path) as sp:
        sp.add_all(["(a 1)", "(a 2)", "(b $x)"])
        with sp.env.begin(write=True) as txn:
            txn.put(b"\x7fgarbage", b"\x01", db=sp._dbs[b"atoms"])  # a key that is no encoded atom
    with mettadb.open(space_path, readonly=True) as sp:
        problems = sp.check()
    assert any("does not decode" in p for p in problems)
    r = CliRunner().invoke(cli, ["--db", str(space_path), "check"])
    assert r.exit_code == 1 and "problem(s) found" in r.stderr
