"""`Space.check()` in bounded memory: reverse-index lookups in batches find missing and stray entries alike."""

from __future__ import annotations

import pytest

import mettadb
import mettadb.check
from mettadb.keys import reverse_key
from mettadb.layout import pack_value


@pytest.fixture(params=[100_000, 7], ids=["one-batch", "many-batches"])
def batches(request, monkeypatch):
    monkeypatch.setattr(mettadb.check, "_BATCH", request.param)


def filled(path):
    sp = mettadb.open(path)
    sp.add_all([f"(parent P{i} P{i + 1})" for i in range(200)] + [f'(name P{i} "n {i}")' for i in range(50)]
               + ["(f $x (g $x))", "(lonely)", "42", f"(long {'y' * 600})", "(parent P1 P2)"])
    return sp


def rev_key(text):
    return reverse_key(mettadb.encoding.split_tokens(mettadb.encode(mettadb.atom(text))))


def test_a_sound_space_has_no_problems(tmp_path, batches):
    with filled(tmp_path / "s") as sp:
        assert sp.check() == []


def test_a_missing_reverse_entry_is_found(tmp_path, batches):
    with filled(tmp_path / "s") as sp:
        with sp.env.begin(write=True) as txn:
            assert txn.delete(rev_key("(parent P17 P18)"), db=sp.dbs.rev)
        assert sp.check() == [f"reverse index entry {rev_key('(parent P17 P18)')[:40].hex()} is missing"]


def test_a_stray_reverse_entry_is_found(tmp_path, batches):
    with filled(tmp_path / "s") as sp:
        with sp.env.begin(write=True) as txn:
            txn.put(rev_key("(parent P999 P5)"), b"", db=sp.dbs.rev)
        assert sp.check() == [f"reverse index entry {rev_key('(parent P999 P5)')[:40].hex()} has no atom"]


def test_a_missing_and_a_stray_entry_are_both_found(tmp_path, batches):
    with filled(tmp_path / "s") as sp:
        with sp.env.begin(write=True) as txn:
            txn.delete(rev_key("(parent P3 P4)"), db=sp.dbs.rev)
            txn.put(rev_key("(parent P999 P5)"), b"", db=sp.dbs.rev)
        assert sorted(sp.check()) == sorted([
            f"reverse index entry {rev_key('(parent P3 P4)')[:40].hex()} is missing",
            f"reverse index entry {rev_key('(parent P999 P5)')[:40].hex()} has no atom"])


def test_bad_statistics_and_bad_keys_are_found(tmp_path, batches):
    with filled(tmp_path / "s") as sp:
        with sp.env.begin(write=True) as txn:
            txn.put(b"\x7fgarbage", b"\x01", db=sp.dbs.atoms)
            txn.put(mettadb.encode(mettadb.atom("(parent P1 P2)")), pack_value(3), db=sp.dbs.atoms)
        problems = sp.check()
    assert any("does not decode" in p for p in problems)
    assert any(p.startswith("statistics for head") for p in problems)
    assert any(p.startswith("totals: stored") for p in problems)
