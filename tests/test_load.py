"""Bulk loads: one transaction, set union, errors that change nothing, kills that change nothing."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time

import pytest

import mettadb


def snapshot(path):
    with mettadb.open(path, readonly=True) as sp:
        return sorted((str(a), n) for a, n in sp.items()), sp.generation


def test_load_reports_and_is_a_set_union(space, write):
    f = write("f.metta", "(parent Tom Bob)\n(parent Tom Bob)\n!(foo)\n; comment\n(= (f $x) $x)\n(age Tom 42)\n")
    r = space.load(f)
    assert (r.read, r.added, r.present, r.bangs) == (4, 3, 1, 1)
    r2 = space.load(f)
    assert (r2.read, r2.added, r2.present) == (4, 0, 4)
    assert len(space) == 3 and space.check() == []
    r3 = space.load(f, duplicates=True)
    assert (r3.added, r3.present) == (4, 0)  # a copy of each atom read
    assert space.count("(parent Tom Bob)") == 3 and len(space) == 7


@pytest.mark.parametrize("bulk", [False, True])
def test_a_load_with_duplicates_counts_the_copies_it_adds(tmp_path, write, bulk):
    f = write("d.metta", "(p 1)\n(p 1)\n(p 2)\n")
    with mettadb.open(tmp_path / "s") as sp:
        sp.add("(p 1)")
        r = sp.load(f, duplicates=True, bulk=bulk)
        assert (r.read, r.added, r.present) == (3, 3, 0) and len(sp) == 4
        buf = io.BytesIO()
        sp.export(buf, "paths")
    with mettadb.open(tmp_path / "t") as sp:
        r = sp.load_paths(io.BytesIO(buf.getvalue()), duplicates=True, bulk=bulk)
        assert (r.read, r.added, r.present) == (4, 4, 0) and len(sp) == 4


def test_load_from_stream(space):
    r = space.load(io.BytesIO(b"(a 1)\n(a 2)\n"))
    assert r.added == 2 and sorted(map(str, space.atoms())) == ["(a 1)", "(a 2)"]


def test_dump_then_load_gives_an_identical_space(tmp_path, write):
    text = '(a "s p" 1.5 -2 True)\n(= (f $x $y) (g $y))\n(a "s p" 1.5 -2 True)\n(n (e (s (t))))\n(' + "w " * 70 + ")\n"
    with mettadb.open(tmp_path / "one") as sp:
        sp.load(write("in.metta", text), duplicates=True)
        dumped = "".join(str(a) + "\n" for a in sp.atoms())
        items = sorted((str(a), n) for a, n in sp.items())
    with mettadb.open(tmp_path / "two") as sp2:
        sp2.load(write("dump.metta", dumped), duplicates=True)
        assert sorted((str(a), n) for a, n in sp2.items()) == items


def test_error_in_last_line_of_second_file_changes_nothing(space_path, write):
    with mettadb.open(space_path) as sp:
        sp.load(write("base.metta", "(old 1)\n(old 2)\n"))
    before = snapshot(space_path)
    good = write("good.metta", "".join(f"(new {i})\n" for i in range(5000)))
    bad = write("bad.metta", "".join(f"(new2 {i})\n" for i in range(5000)) + "(broken (line)\n")
    with mettadb.open(space_path) as sp:
        with pytest.raises(mettadb.ParseError) as e:
            sp.load(good, bad)
    assert str(e.value) == f"{bad}:5001:1: '(' is never closed"
    assert snapshot(space_path) == before


def test_bad_bytes_are_reported_with_position(space, write):
    f = write("nul.metta", b"(a b)\n(c \x00 d)\n")
    with pytest.raises(mettadb.ParseError, match=r"nul.metta:2:4: NUL byte"):
        space.load(f)
    f2 = write("utf.metta", b"(a b)\n(c \xc3\x28)\n")
    with pytest.raises(mettadb.ParseError, match=r"utf.metta:2:4: invalid UTF-8 byte 0xc3"):
        space.load(f2)
    f3 = write("trunc.metta", b'(a b)\n(c "never closed\n')
    with pytest.raises(mettadb.ParseError, match=r"trunc.metta:2:4: unterminated string"):
        space.load(f3)
    assert len(space) == 0


def test_deeply_nested_input_loads_and_round_trips(space, write):
    depth = 100_000
    text = "(n " * depth + "leaf" + ")" * depth
    space.load(write("deep.metta", text + "\n"))
    [a] = list(space.atoms())
    assert str(a) == text
    assert [str(x) for x in space.match("(n $x)", "(n $x)")] == [text]


def test_huge_symbols_round_trip(space, write):
    sym = "s" * 100_000
    space.load(write("huge.metta", f'(big {sym} "{sym}")\n'))
    [a] = list(space.atoms())
    assert str(a) == f'(big {sym} "{sym}")'


_LOADER = """
import sys, mettadb
with mettadb.open(sys.argv[1]) as sp:
    sp.load(sys.argv[2])
"""


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_killed_load_leaves_the_space_as_it_was(space_path, write, delay):
    with mettadb.open(space_path) as sp:
        sp.add_all(["(before 1)", "(before 2)"])
    before = snapshot(space_path)
    big = write("big.metta", "".join(f"(fact P{i} P{i * 7 % 1000} {i})\n" for i in range(300_000)))
    proc = subprocess.Popen([sys.executable, "-c", _LOADER, str(space_path), str(big)])
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = snapshot(space_path)
    with mettadb.open(space_path, readonly=True) as sp:
        assert sp.check() == []
        n = len(sp)
    assert after == before or (finished and n == 300_002), (n, finished)


def test_a_directory_or_missing_file_is_a_clear_error(tmp_path):
    (tmp_path / "d").mkdir()
    with mettadb.open(tmp_path / "s") as sp:
        for load in (sp.load, sp.load_paths):
            with pytest.raises(mettadb.MettaDBError, match=r"d: it is a directory$"):
                load(tmp_path / "d")
            with pytest.raises(mettadb.MettaDBError, match=r"nope\.metta: no such file$"):
                load(tmp_path / "nope.metta")
        assert len(sp) == 0
