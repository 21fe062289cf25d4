"""Format versions: the fixtures of every released format migrate and read; newer formats are refused."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import lmdb
import msgpack
import pytest
from click.testing import CliRunner
from helpers import FIXTURE_ATOMS, FIXTURES
from mettadb.cli.main import cli
from mettadb.migrations import MIGRATIONS, Migration, migrate, pending, register

import mettadb
from mettadb.layout import FIRST_SEQ
from mettadb.store import Store


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
        "would migrate to format 2: add a second database slot for staged bulk loads",
        "would migrate to format 3: number every stored atom in insertion order (existing atoms in key order)",
        "would migrate to format 4: atoms equal up to variable names kept apart (no record rewritten)"]
    r = runner.invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout.startswith("migrated to format 1")
    with mettadb.open(space) as sp:
        assert sp.format_version == 4 and sp.check() == []
        assert sorted(map(str, sp.atoms())) == FIXTURE_ATOMS
        assert [str(a) for a in sp.match("(parent $x Ann)", "$x")] == ["Bob", "Bob"]
    assert runner.invoke(cli, ["--db", str(space), "migrate"]).stdout == "already at format version 4\n"


def test_format_1_migrates_to_be_read(tmp_path):
    space = tmp_path / "v1"
    shutil.copytree(FIXTURES / "format-1", space)
    # format 3 changed the primary record: older spaces are migrated before they are read
    with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate` to upgrade it to 4"):
        mettadb.open(space, readonly=True)
    with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate` to upgrade it to 4"):
        mettadb.open(space)
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout.splitlines() == [
        "migrated to format 2: add a second database slot for staged bulk loads",
        "migrated to format 3: number every stored atom in insertion order (existing atoms in key order)",
        "migrated to format 4: atoms equal up to variable names kept apart (no record rewritten)"]
    with mettadb.open(space) as sp:
        sp.add("(parent Ann Cid)")
        assert sp.check() == [] and len(sp) == len(FIXTURE_ATOMS) + 1


def test_format_2_migrates_and_keeps_its_key_order(tmp_path):
    """Format 2 kept no insertion order: m0003 numbers its atoms in key order, so they come back as they
    did before; atoms added afterwards come after them."""
    space = tmp_path / "v2"
    shutil.copytree(FIXTURES / "format-2", space)
    for readonly in (True, False):
        with pytest.raises(mettadb.FormatVersionError, match=r"run `mettadb --db .* migrate` to upgrade it to 4"):
            mettadb.open(space, readonly=readonly)
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout == \
        "migrated to format 3: number every stored atom in insertion order (existing atoms in key order)\n" \
        "migrated to format 4: atoms equal up to variable names kept apart (no record rewritten)\n"
    with mettadb.open(space) as sp:
        assert sp.format_version == 4 and sp.check() == []
        key_order = [str(a) for a in sp.atoms()]
        assert sorted(key_order) == FIXTURE_ATOMS
        assert [str(a) for a in sp.atoms(ordered=True)] == key_order
        n = len(set(FIXTURE_ATOMS))
        assert [rec.seq for _, rec in sp.records(ordered=True)] == list(range(FIRST_SEQ, FIRST_SEQ + n))
        assert sp.meta(b"seq") == FIRST_SEQ + n
        sp.add("(parent Ann Cid)")
        sp.add("(age Ann 7)")
        assert [str(a) for a in sp.atoms(ordered=True)] == [*key_order, "(parent Ann Cid)", "(age Ann 7)"]
        assert sp.check() == []


def test_format_3_is_read_and_written_as_it_is_until_it_needs_format_4(tmp_path):
    """Format 4 only added a shape of the record: a format-3 space is read and written without migrating,
    and stays format 3 (readable by the release before) until a key first holds atoms equal up to
    variable names; the transaction that writes that record raises the version."""
    space = fresh_copy(tmp_path, "format-3")
    with mettadb.open(space) as sp:
        assert sp.format_version == 3 and sorted(map(str, sp.atoms())) == FIXTURE_ATOMS and sp.check() == []
        sp.add("(parent Ann Cid)")
        sp.add("(= (f $x) (g $x))")  # (a copy of a stored atom, same names)
        assert sp.format_version == 3 and sp.check() == []
        with pytest.raises(RuntimeError), sp.transaction():
            sp.add("(= (f $y) (g $y))")
            raise RuntimeError("rolled back")
        assert sp.format_version == 3
        sp.add("(= (f $y) (g $y))")
        assert sp.format_version == 4 and sp.check() == []
        assert sp.count("(= (f $x) (g $x))", exact=True) == 2 and sp.count("(= (f $z) (g $z))") == 3


def test_migrating_format_3_rewrites_no_record(tmp_path):
    space = fresh_copy(tmp_path, "format-3")
    with mettadb.open(space, readonly=True) as sp, sp.read() as txn:
        before = list(txn.cursor(db=sp.dbs.atoms))
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 0 and r.stdout == \
        "migrated to format 4: atoms equal up to variable names kept apart (no record rewritten)\n"
    with mettadb.open(space) as sp:
        assert sp.format_version == 4
        with sp.read() as txn:
            assert list(txn.cursor(db=sp.dbs.atoms)) == before


def test_current_format_fixture_still_reads(tmp_path):
    space = tmp_path / "cur"
    shutil.copytree(FIXTURES / "format-4", space)
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


def fresh_copy(tmp_path, name):
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def items(path):
    with mettadb.open(path, readonly=True) as sp:
        return sorted((str(a), n) for a, n in sp.items()), sp.stats()["heads"]


def database_names(path):
    env = lmdb.open(str(path), max_dbs=16, readonly=True, lock=False)
    try:
        with env.begin() as txn:
            return [k for k, _ in txn.cursor()]
    finally:
        env.close()


@pytest.mark.parametrize(("name", "steps"), [("format-0", [1, 2, 3, 4]), ("format-1", [2, 3, 4]), ("format-2", [3, 4]),
                                             ("format-3", [4]), ("format-4", [])])
def test_dry_run_lists_the_steps_and_changes_nothing(tmp_path, name, steps):
    space = fresh_copy(tmp_path, name)
    before = (space / "data.mdb").read_bytes()
    names = database_names(space)
    assert [t for t, _ in migrate(space, dry_run=True)] == steps
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate", "--dry-run"])
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [f"would migrate to format {m.target}: {m.description}" for m in pending(4 - len(steps), 4)] \
        or (not steps and r.stdout == "already at format version 4\n")
    assert database_names(space) == names
    assert (space / "data.mdb").read_bytes() == before


@pytest.mark.parametrize("name", ["format-0", "format-1", "format-2", "format-3", "format-4"])
def test_every_fixture_migrates_to_what_a_fresh_load_builds(tmp_path, name):
    """After migrating, atoms, counts, head statistics and queries equal those of a space built today."""
    space = fresh_copy(tmp_path, name)
    migrate(space)
    with mettadb.open(tmp_path / "fresh") as sp:
        sp.add_all(FIXTURE_ATOMS)
    assert items(space) == items(tmp_path / "fresh")
    with mettadb.open(space) as sp:
        assert sp.format_version == mettadb.FORMAT_VERSION and sp.check() == []
        assert sorted(map(str, sp.match("(parent $x $y)", "($x $y)"))) == ["(Bob Ann)", "(Bob Ann)", "(Tom Bob)"]
        assert [str(a) for a in sp.match("(= (f 1) $r)", "$r")] == ["(g 1)"]
        sp.add("(parent Ann Cid)")
        assert sp.check() == []
    assert migrate(space) == []  # a second run has nothing to do


def test_a_failing_step_leaves_the_space_at_a_whole_version(tmp_path, monkeypatch):
    space = fresh_copy(tmp_path, "format-0")

    def broken(store, writer):
        raise RuntimeError("step 2 fails")

    monkeypatch.setitem(MIGRATIONS, 2, Migration(2, "a broken step", broken))
    with pytest.raises(RuntimeError, match="step 2 fails"):
        migrate(space)
    # step 1 committed, step 2 left nothing behind (format 1 is only read by the migration runner now)
    with Store(space, readonly=True, for_migration=True) as st:
        assert st.format_version == 1 and st.meta(b"slot") is None
    monkeypatch.undo()
    assert [t for t, _ in migrate(space)] == [2, 3, 4]
    assert items(space) == items(fresh_copy(tmp_path, "format-4"))


def test_migrate_refuses_a_newer_format(tmp_path):
    space = fresh_copy(tmp_path, "format-4")
    with raw_meta(space) as (txn, meta):
        txn.put(b"format_version", msgpack.packb(mettadb.FORMAT_VERSION + 1), db=meta)
    before = (space / "data.mdb").read_bytes()
    with pytest.raises(mettadb.FormatVersionError, match="newer than this mettadb understands"):
        migrate(space)
    r = CliRunner().invoke(cli, ["--db", str(space), "migrate"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and len(r.stderr.splitlines()) == 1
    assert (space / "data.mdb").read_bytes() == before


def test_steps_are_numbered_without_gaps():
    assert sorted(MIGRATIONS) == list(range(1, mettadb.FORMAT_VERSION + 1))
    assert [m.target for m in pending(0, mettadb.FORMAT_VERSION)] == [1, 2, 3, 4]
    assert pending(mettadb.FORMAT_VERSION, mettadb.FORMAT_VERSION) == []
    with pytest.raises(KeyError):
        pending(0, mettadb.FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match="two migrations to format 1"):
        register(1, "again")(lambda store, writer: None)


@contextmanager
def raw_meta(path):
    env = lmdb.open(str(path), max_dbs=16, subdir=True)
    try:
        meta = env.open_db(b"meta", create=False)
        with env.begin(write=True) as txn:
            yield txn, meta
    finally:
        env.close()
