"""`Space.check()` and `mettadb check`: a sound space reports nothing, each kind of damage is reported.

The damage is done from outside, with py-lmdb on the closed space's files (the databases of the
active slot 0 of a fresh space: `meta`, `atoms`, `rev`, `vx`, `heads`; values are msgpack), so the
tests do not depend on how the store is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import lmdb
import msgpack
import pytest
from click.testing import CliRunner
from mettadb.cli.main import cli

import mettadb
from mettadb import encode

ATOMS = ["(a 1)", "(a 2)", "(a 2)", "(parent Tom Bob)", "(parent Bob Ann)", "(b $x)", "(= (f $x) (g $x))",
         "plain", f"(long {'y' * 600} 1)"]


def pack(v: object) -> bytes:
    return msgpack.packb(v, use_bin_type=True)


@contextmanager
def raw_space(path) -> Iterator[tuple[lmdb.Transaction, dict[str, object]]]:
    """A write transaction on the closed space's slot-0 databases, outside mettadb."""
    env = lmdb.open(str(path), max_dbs=16, subdir=True)
    try:
        dbs = {n: env.open_db(n.encode(), dupsort=(n == "vx"), create=False) for n in ("meta", "atoms", "rev", "vx", "heads")}
        with env.begin(write=True) as txn:
            assert msgpack.unpackb(txn.get(b"slot", db=dbs["meta"])) == 0
            yield txn, dbs
    finally:
        env.close()


def rev_key_of(text: str) -> bytes:
    """The reverse-index key of a ground `(h a1 .. an)` whose arguments are single tokens."""
    a = mettadb.atom(text)
    head, *args = (encode(x) for x in a.children)
    return bytes([len(a.children)]) + head + b"".join(reversed(args))


@pytest.fixture
def filled(space_path):
    with mettadb.open(space_path) as sp:
        sp.add_all(ATOMS)
        assert sp.check() == []
    return space_path


def problems(path) -> list[str]:
    with mettadb.open(path, readonly=True) as sp:
        return sp.check()


def test_a_sound_space_reports_nothing(filled):
    assert problems(filled) == []
    r = CliRunner().invoke(cli, ["--db", str(filled), "check"])
    assert r.exit_code == 0 and r.stdout.startswith("ok: ") and r.stderr == ""
    with mettadb.open(filled) as sp:  # and after removals, a replace and a clear
        sp.remove("(a 2)")
        sp.remove("(b $x)")
        sp.replace("(parent Tom Bob)", "(parent Tom Liz)")
        assert sp.check() == []
        sp.clear()
        assert sp.check() == [] and len(sp) == 0


def _garbage_key(txn, dbs):
    txn.put(b"\x7fgarbage", b"\x01", db=dbs["atoms"])


def _undecodable_value(txn, dbs):
    txn.put(encode(mettadb.atom("(a 1)")), b"\xc1", db=dbs["atoms"])  # msgpack's never-used byte


def _zero_count(txn, dbs):
    txn.put(encode(mettadb.atom("(a 1)")), pack([0, 5]), db=dbs["atoms"])


def _shared_sequence_number(txn, dbs):
    seq = msgpack.unpackb(txn.get(encode(mettadb.atom("(parent Tom Bob)")), db=dbs["atoms"]))
    txn.put(encode(mettadb.atom("(a 1)")), pack(seq), db=dbs["atoms"])


def _sequence_number_past_the_next(txn, dbs):
    txn.put(encode(mettadb.atom("(a 1)")), pack(10_000_000), db=dbs["atoms"])


def _no_next_sequence_number(txn, dbs):
    assert txn.delete(b"seq", db=dbs["meta"])


def _key_not_its_path(txn, dbs):
    long_key = next(k for k in txn.cursor(db=dbs["atoms"]).iternext(values=False) if len(k) > 494)
    value = msgpack.unpackb(txn.get(long_key, db=dbs["atoms"]))
    value[3] = encode(mettadb.atom(f"(long {'y' * 600} 2)"))  # the full path of another atom
    txn.put(long_key, pack(value), db=dbs["atoms"])


def _missing_reverse_key(txn, dbs):
    assert txn.delete(rev_key_of("(parent Tom Bob)"), db=dbs["rev"])


def _stray_reverse_key(txn, dbs):
    txn.put(rev_key_of("(parent Nobody Else)"), b"", db=dbs["rev"])


def _missing_variable_index_entry(txn, dbs):
    cur = txn.cursor(db=dbs["vx"])
    assert cur.first()
    cur.delete()


def _stray_variable_index_entry(txn, dbs):
    txn.put(b"v\x02", b"\x02\xc1b\xc1z", db=dbs["vx"], dupdata=True)


def _wrong_head_statistics(txn, dbs):
    hk = b"\x02\xc1a"
    assert msgpack.unpackb(txn.get(hk, db=dbs["heads"])) == [2, 3]
    txn.put(hk, pack([2, 4]), db=dbs["heads"])


def _missing_head_statistics(txn, dbs):
    assert txn.delete(b"\x03\xc6parent", db=dbs["heads"])


def _wrong_totals(txn, dbs):
    txn.put(b"atoms", pack(len(ATOMS) + 1), db=dbs["meta"])


def _unknown_format(txn, dbs):
    txn.put(b"format_version", pack(99), db=dbs["meta"])


@pytest.mark.parametrize(("damage", "expected"), [
    (_garbage_key, "does not decode"),
    (_undecodable_value, "does not decode"),
    (_zero_count, "has count 0"),
    (_shared_sequence_number, "which another atom has too"),
    (_sequence_number_past_the_next, "has sequence number 10000000, next is"),
    (_no_next_sequence_number, "no next sequence number"),
    (_key_not_its_path, "does not match its path"),
    (_missing_reverse_key, "reverse index entry 03c6706172656e74c3426f62c3546f6d is missing"),
    (_stray_reverse_key, "has no atom"),
    (_missing_variable_index_entry, "missing from the variable index"),
    (_stray_variable_index_entry, "variable index entry 7602 -> 02c162c17a has no atom"),
    (_wrong_head_statistics, "statistics for head 02c161: stored [2, 4], actual [2, 3]"),
    (_missing_head_statistics, "statistics for head 03c6706172656e74: stored None, actual [2, 2]"),
    (_wrong_totals, f"totals: stored {len(ATOMS) + 1} atoms / {len(ATOMS) - 1} distinct, actual {len(ATOMS)} / {len(ATOMS) - 1}"),
])
def test_each_kind_of_damage_is_reported(filled, damage, expected):
    with raw_space(filled) as (txn, dbs):
        damage(txn, dbs)
    found = problems(filled)
    assert len(found) >= 1 and any(expected in p for p in found), found
    r = CliRunner().invoke(cli, ["--db", str(filled), "check"])
    noun = "problem" if len(found) == 1 else "problems"
    assert r.exit_code == 1 and r.stderr == f"Error: {len(found)} {noun} found in {filled}\n"
    assert r.stdout.splitlines() == found


def test_an_unknown_format_version_is_reported(filled):
    """Opening refuses a newer format, so the check runs on the space the way `migrate` opens it."""
    with raw_space(filled) as (txn, dbs):
        _unknown_format(txn, dbs)
    with pytest.raises(mettadb.FormatVersionError, match="newer than this mettadb understands"):
        problems(filled)
    r = CliRunner().invoke(cli, ["--db", str(filled), "check"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "newer" in r.stderr


def test_the_report_is_bounded(filled):
    with raw_space(filled) as (txn, dbs):
        for i in range(200):
            txn.put(b"\x7fgarbage%d" % i, b"\x01", db=dbs["atoms"])
    found = problems(filled)
    assert 10 <= len(found) <= 50 and all("does not decode" in p for p in found[:-1])
