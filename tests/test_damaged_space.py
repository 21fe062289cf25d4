"""A damaged space (a data file cut short, overwritten pages) is refused with one `Error:` line, never a
crash: LMDB maps the file, and a read past its end kills the process with SIGBUS.

Every case runs in a child process: a signal must fail the test, not kill pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mettadb

FACTS = "(parent Tom Bob)\n(parent Tom Liz)\n"


def _mettadb(*args: str, cwd: Path | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from mettadb.cli.main import main; main()", *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd, input=stdin)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    db = tmp_path / "kb.db"
    with mettadb.open(db) as sp:
        sp.run(FACTS)
    return db


def _truncate(db: Path, size: int) -> None:
    with open(db / "data.mdb", "r+b") as f:
        f.truncate(size)


def _commands(tmp_path: Path) -> list[list[str]]:
    facts = tmp_path / "facts.metta"
    facts.write_text(FACTS)
    queries = tmp_path / "q.metta"
    queries.write_text("!(match &self (parent Tom $x) $x)\n")
    return [["stats"], ["check"], ["dump"], ["export", str(tmp_path / "out.metta")], ["match", "(parent $x $y)"],
            ["eval", "(+ 1 1)"], ["run", str(queries)], ["load", str(facts)], ["batch", str(queries)],
            ["batch", "--jobs", "2", str(queries)], ["backup", str(tmp_path / "copy")], ["migrate"], ["repl"]]


@pytest.mark.parametrize("size", [100, 4096, 5000, 8192, 12288, -1])
def test_a_cut_short_space_is_refused_by_every_command(loaded, tmp_path, size):
    full = os.path.getsize(loaded / "data.mdb")
    size = full - 1 if size < 0 else size
    _truncate(loaded, size)
    for args in _commands(tmp_path) if size in (5000, full - 1) else [["stats"], ["check"], ["run", "/dev/null"]]:
        r = _mettadb("--db", str(loaded), *args)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"Error: {loaded} is damaged: its data file is cut "
                                                                  f"short ({size:,} bytes"), (args, r.stderr)
        assert "restore the space from a backup" in r.stderr
        assert r.stdout == ""
        assert os.path.getsize(loaded / "data.mdb") == size, args  # nothing wrote to it
    assert not (tmp_path / "copy").exists()


def test_the_library_refuses_a_cut_short_space(loaded):
    need = _need(loaded)
    _truncate(loaded, 12288)
    r = _python(f"""
        import mettadb
        from mettadb.hyperon import DurableSpace
        for opener in (lambda: mettadb.open({str(loaded)!r}), lambda: mettadb.open({str(loaded)!r}, readonly=True),
                       lambda: DurableSpace({str(loaded)!r})):
            try:
                opener()
            except mettadb.DamagedSpaceError as e:
                print(str(e).split("; restore")[0])
        """)
    why = f"{loaded} is damaged: its data file is cut short (12,288 bytes; its last transaction needs {need:,})"
    assert (r.returncode, r.stdout) == (0, f"{why}\n" * 3), r.stderr


def _psize(db: Path) -> int:
    """The page size LMDB recorded in the first meta page."""
    import struct

    return int(struct.unpack_from("=I", (db / "data.mdb").read_bytes()[:64], 40)[0])


def _need(db: Path) -> int:
    """(last page number + 1) * page size of the newer meta page, read as the test's own check."""
    import struct

    raw = (db / "data.mdb").read_bytes()[:8192]
    psize = struct.unpack_from("=I", raw, 40)[0]
    metas = [struct.unpack_from("=QQ", raw, off + 136) for off in (0, psize)]
    last, _txnid = max(metas, key=lambda m: m[1])
    return int((last + 1) * psize)


def test_a_data_file_that_shrinks_while_open_is_refused_at_the_next_transaction(loaded):
    full = os.path.getsize(loaded / "data.mdb")
    r = _python(f"""
        import os
        import mettadb
        sp = mettadb.open({str(loaded)!r})
        print(len(sp))
        os.truncate({str(loaded / "data.mdb")!r}, 8192)
        for step in (lambda: len(sp), lambda: sp.add("(parent Liz Ann)"), lambda: sp.eval("(+ 1 1)"),
                     lambda: sp.run("(a b)")):
            try:
                step()
            except mettadb.DamagedSpaceError as e:
                print(str(e).split("; restore")[0])
        """)
    assert (r.returncode, r.stdout) == (0, "2\n" + f"{loaded} is damaged: its data file shrank from "
                                        f"{full:,} to 8,192 bytes while it was open\n" * 4), r.stderr


def test_a_meta_page_overwritten_is_named(loaded):
    with open(loaded / "data.mdb", "r+b") as f:
        f.seek(16)
        f.write(b"\xab" * 32)
    r = _mettadb("--db", str(loaded), "stats")
    assert (r.returncode, r.stderr) == (1, f"Error: {loaded} is damaged: its first meta page is overwritten; restore "
                                           "the space from a backup (`mettadb backup` makes one)\n")


@pytest.fixture
def overwritten(tmp_path: Path) -> Path:
    """A space of 1,200 atoms with 32 bytes of its page 4 (a page of the atoms' tree) overwritten."""
    db = tmp_path / "kb.db"
    with mettadb.open(db) as sp:
        sp.run("".join(f"(parent p{i} p{2 * i + 1})\n(age p{i} {i % 90})\n" for i in range(600)))
    with open(db / "data.mdb", "r+b") as f:
        f.seek(4 * _psize(db) + 16)
        f.write(b"\xab" * 32)
    return db


def test_check_reports_overwritten_pages_as_its_finding(overwritten):
    r = _mettadb("--db", str(overwritten), "check")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "damaged pages: LMDB reports MDB_CORRUPTED: Located page was wrong type while reading the atoms; the check "
           "stopped there (restore the space from a backup)\n", f"Error: 1 problem found in {overwritten}\n")


def test_reading_overwritten_pages_is_one_error_line_naming_the_space(overwritten, tmp_path):
    q = tmp_path / "q.metta"
    q.write_text("!(match &self (age $p 5) $p)\n")
    for args in (["match", "(age $p 5)", "--count"], ["dump"], ["run", str(q)], ["batch", str(q)],
                 ["batch", "--jobs", "2", str(q)], ["eval", "(match &self (age $p 5) $p)"]):
        r = _mettadb("--db", str(overwritten), *args)
        assert (r.returncode, r.stderr) == (1, f"Error: {overwritten} is damaged: LMDB reports MDB_CORRUPTED: Located "
                                               f"page was wrong type; `mettadb --db {overwritten} check` shows the "
                                               "damage; restore the space from a backup (`mettadb backup` makes one)\n"), args


def test_the_library_raises_damaged_space_error(overwritten):
    r = _python(f"""
        import mettadb
        with mettadb.open({str(overwritten)!r}) as sp:
            for step in (lambda: list(sp.match("(age $p 5)", "$p")), lambda: sp.count_matches("(age $p $a)"),
                         lambda: sp.eval("(match &self (age $p 5) $p)"), lambda: sp.run("(new atom)"),
                         lambda: sp.add("(another atom)"), lambda: list(sp.atoms())):
                try:
                    step()
                    print("no error")
                except mettadb.DamagedSpaceError as e:
                    print(e.reason)
            print(sp.check())
        """)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    damage = "LMDB reports MDB_CORRUPTED: Located page was wrong type"
    # (a count comes from the statistics; once the damage is seen, the space takes no more writes)
    assert lines[:-1] == [damage, "no error", damage, damage, damage, damage]
    assert lines[-1].startswith("['damaged pages: LMDB reports MDB_CORRUPTED")


def _refusals(db: Path, tmp_path: Path, expected: str) -> None:
    """Every command, reader or writer, refuses `db` with the one line `expected`, and nothing writes to it."""
    before = (db / "data.mdb").read_bytes()
    for args in _commands(tmp_path):
        r = _mettadb("--db", str(db), *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", expected), args
        assert (db / "data.mdb").read_bytes() == before, args
    assert not (tmp_path / "copy").exists()
    r = _python(f"""
        import mettadb
        from mettadb.hyperon import DurableSpace
        for opener in (lambda: mettadb.open({str(db)!r}), lambda: mettadb.open({str(db)!r}, readonly=True),
                       lambda: DurableSpace({str(db)!r})):
            try:
                opener()
                print("opened")
            except mettadb.MettaDBError as e:
                print(type(e).__name__, e)
        """)
    assert (r.returncode, r.stdout) == (0, f"{type_of(expected)} {expected[len('Error: '):]}" * 3), r.stderr
    assert (db / "data.mdb").read_bytes() == before


def type_of(expected: str) -> str:
    return "DamagedSpaceError" if " is damaged: " in expected else "FormatVersionError"


def _zero_pages_holding(db: Path, marker: bytes) -> None:
    """Zero 100 bytes after the header of every page (past the two meta pages) that holds `marker`."""
    psize = _psize(db)
    data = (db / "data.mdb").read_bytes()
    pages = [n for n in range(2, len(data) // psize) if marker in data[n * psize:(n + 1) * psize]]
    assert pages
    with open(db / "data.mdb", "r+b") as f:
        for n in pages:
            f.seek(n * psize + 16)
            f.write(bytes(100))


def test_an_emptied_data_file_is_refused_by_writers_too(loaded, tmp_path):
    # (a writer used to start a new space in it: the truncation, evidence of the damage, was erased)
    _truncate(loaded, 0)
    _refusals(loaded, tmp_path, f"Error: {loaded} is damaged: its data file is empty; restore the space from a "
                                "backup (`mettadb backup` makes one)\n")
    assert os.path.getsize(loaded / "data.mdb") == 0


def test_a_directory_without_a_data_file_is_still_a_new_space(tmp_path):
    db = tmp_path / "new.db"
    db.mkdir()
    facts = tmp_path / "facts.metta"
    facts.write_text(FACTS)
    r = _mettadb("--db", str(db), "load", str(facts))
    assert r.returncode == 0, r.stderr
    with mettadb.open(db, readonly=True) as sp:
        assert len(sp) == 2


def test_a_lost_main_database_page_is_damage_never_a_new_space(loaded, tmp_path):
    # (its names read as empty: `check` said "not a mettadb space", `run` initialised it and lost its atoms)
    _zero_pages_holding(loaded, b"atoms~1")
    _refusals(loaded, tmp_path, f"Error: {loaded} is damaged: its main database (listing 9 entries) is unreadable; "
                                "restore the space from a backup (`mettadb backup` makes one)\n")


def test_an_unreadable_format_version_is_damage_not_an_old_format(loaded, tmp_path):
    # (it read as format version 0, with advice to migrate; a writer said "has atoms but no format version")
    _zero_pages_holding(loaded, b"format_version")
    _refusals(loaded, tmp_path, f"Error: {loaded} is damaged: its format version record is unreadable; restore the "
                                "space from a backup (`mettadb backup` makes one)\n")


@pytest.mark.parametrize("named", [True, False])
def test_another_programs_lmdb_environment_is_never_initialised(tmp_path, named):
    import lmdb

    db = tmp_path / "other.db"
    env = lmdb.open(str(db), max_dbs=2)
    with env.begin(write=True) as txn:
        txn.put(b"key", b"value", db=env.open_db(b"theirs", txn=txn) if named else None)
    env.close()
    _refusals(db, tmp_path, f"Error: {db} is not a mettadb space\n")
    env = lmdb.open(str(db), max_dbs=2, readonly=True)
    with env.begin() as txn:
        assert [k for k, _ in txn.cursor()] == [b"theirs" if named else b"key"]
    env.close()


def _fill_page(db: Path, page: int, byte: int) -> None:
    with open(db / "data.mdb", "r+b") as f:
        f.seek(page * _psize(db) + 16)
        f.write(bytes([byte]) * 100)


def test_a_record_that_does_not_decode_is_damage_not_an_internal_error(loaded):
    # (page 4 of this two-atom space is the atoms' leaf, page 6 the head statistics': LMDB's allocation order)
    assert b"Tom" in (loaded / "data.mdb").read_bytes()[4 * _psize(loaded):5 * _psize(loaded)]
    tail = f"; `mettadb --db {loaded} check` shows the damage; restore the space from a backup (`mettadb backup` makes one)\n"
    _fill_page(loaded, 4, 0x01)
    r = _mettadb("--db", str(loaded), "check")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "damaged pages: a stored record does not decode (IndexError: index out of range) while reading the atoms; "
           "the check stopped there (restore the space from a backup)\n", f"Error: 1 problem found in {loaded}\n")
    for args in (["dump"], ["export", "-"]):
        r = _mettadb("--db", str(loaded), *args)
        assert (r.returncode, r.stderr) == (1, f"Error: {loaded} is damaged: a stored record does not decode "
                                               f"(IndexError: index out of range){tail}"), args


def test_statistics_that_do_not_decode_are_damage(loaded):
    _fill_page(loaded, 6, 0x01)
    r = _mettadb("--db", str(loaded), "check")
    assert (r.returncode, r.stdout) == (1, "damaged pages: a stored record does not decode (ValueError: Unpack failed: "
                                           "incomplete input) while reading the statistics; the check stopped there "
                                           "(restore the space from a backup)\n")
    r = _mettadb("--db", str(loaded), "stats")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", f"Error: {loaded} is damaged: a stored record does not decode (ValueError: Unpack failed: incomplete "
               f"input); `mettadb --db {loaded} check` shows the damage; restore the space from a backup (`mettadb "
               "backup` makes one)\n")
