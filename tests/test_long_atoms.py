"""Top-level symbols, strings and numbers longer than LMDB's 511-byte key limit, in every write path.

Their path is hashed like any long path (`keys.storage_key`); what failed was what else is keyed on
the atom: the statistics bucket (an atom's first token, `MDB_BAD_VALSIZE` past 511 bytes), a trie
node's kept number (`tn:`, a 2-byte length per token: past 64 KiB an OverflowError on removal) and
Python's 4300-digit limit on reading and printing an integer.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import mettadb_cmd

import mettadb
import mettadb.pload as pload
from mettadb import S, encode
from mettadb.atoms import Integer, String, Symbol, int_text, read_int
from mettadb.encoding import split_tokens
from mettadb.keys import MAX_KEY, head_key, path_head_key
from mettadb.parser import parse_atom
from mettadb.trieorder import node_key

#: texts as a script writes them: lengths around the key limit (a symbol of n bytes is a token of
#: n + 3), a multi-byte character across it, and 100 KB
TEXTS = (
    ["x" * n for n in range(505, 521)]
    + ['"' + "s" * (n - 2) + '"' for n in (505, 508, 509, 510, 512, 520)]
    + ["9" * n for n in (505, 508, 509, 512, 520)]
    + ["x" * 507 + "é", "x" * 508 + "é", "€" * 170, "x" * 506 + "€", "x" * 509 + "€", "-" + "7" * 600]
    + ["y" * 100_000, '"' + "z" * 100_000 + '"', "8" * 100_000]
)
#: a subset for the slower paths (the CLI, a child process)
SOME = ["x" * 508, "x" * 509, "x" * 600, '"' + "s" * 600 + '"', "9" * 600, "x" * 507 + "€", "y" * 100_000,
        "8" * 100_000]


def lines(text: str) -> list[str]:
    return sorted(text.splitlines())


# ---------------------------------------------------------------- keys


@pytest.mark.parametrize("n", range(500, 521))
def test_the_statistics_bucket_of_a_long_first_token_fits_a_key(n):
    for a in (Symbol("x" * n), String("s" * n), Symbol("1" * n), Integer(int("9" * n))):
        path = encode(a)
        token = split_tokens(path)[0]
        bucket = path_head_key(path)
        assert bucket == head_key(split_tokens(path))
        assert bucket == (token if len(token) <= MAX_KEY else bytes((path[0], 0)))
        assert len(bucket) <= MAX_KEY


def test_trie_node_keys_of_tokens_of_64_kib_and_more():
    assert node_key([b"\xc1a", b"\x02"]) == b"tn:\x00\x02\xc1a\x00\x01\x02"  # (as before)
    keys = {node_key([b"a" * n]) for n in (65_535, 65_536, 65_537, 1_000_000)}
    assert len(keys) == 4 and all(k.startswith(b"tn:#") and len(k) == 20 for k in keys)


@pytest.mark.parametrize("digits", [1, 4000, 4001, 4300, 4301, 9000, 100_000])
def test_integers_of_any_length_read_and_print(digits):
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        words = ["9" * digits, "-1" + "0" * (digits - 1), "+00" + "7" * digits]
        values = [int(w) for w in words]
        texts = [str(v) for v in values]
    finally:
        sys.set_int_max_str_digits(old)
    assert [read_int(w) for w in words] == values
    assert [int_text(v) for v in values] == texts
    assert str(parse_atom(words[2])) == texts[2]


# ---------------------------------------------------------------- the library


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: f"{t[:3]}{len(t.encode())}")
def test_a_long_top_level_atom_is_stored_counted_matched_and_removed(space, text):
    atom = parse_atom(text)
    space.add_all(["(short)", text])
    space.add(atom)
    assert space.count(atom) == 2 and len(space) == 3 and space.distinct == 2
    assert [str(a) for a in space.match(text, "ok")] == ["ok", "ok"]
    assert sorted(str(a) for a in space.match("$x", "$x")) == sorted(["(short)", text, text])
    assert space.check() == []
    assert space.remove(atom) and space.count(atom) == 1 and space.check() == []
    assert space.remove(atom) and space.count(atom) == 0 and not space.remove(atom)
    assert [str(a) for a in space] == ["(short)"] and space.check() == []
    space.add(atom)
    assert [str(a) for a in space] == ["(short)", text] and space.check() == []


def test_a_later_process_reads_long_atoms_back(space_path):
    with mettadb.open(space_path) as sp:
        sp.add_all(SOME + [S("x" * 600)])
    code = ("import json, sys, mettadb\n"
            "with mettadb.open(sys.argv[1], readonly=True) as sp:\n"
            "    print(json.dumps([[str(a), n] for a, n in sp.items()] + [sp.check()]))\n")
    out = subprocess.run([sys.executable, "-c", code, str(space_path)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got[-1] == []
    assert sorted(map(tuple, got[:-1])) == sorted((t, 2 if t == "x" * 600 else 1) for t in SOME)


def test_a_parallel_bulk_load_keeps_long_atoms_of_every_range(space, tmp_path, monkeypatch):
    monkeypatch.setattr(pload, "MIN_CHUNK", 4096)
    monkeypatch.setattr(pload, "MAX_CHUNK", 8192)
    body = [f"(fact {i})" for i in range(4000)]
    for i, t in enumerate(SOME):
        body.insert(500 * i + 7, t)
    f = tmp_path / "kb.metta"
    f.write_text("\n".join(body) + "\n")
    rep = space.load(f, bulk=True, jobs=2)
    assert rep.mode == "bulk" and rep.workers == 1
    assert len(space) == 4000 + len(SOME) and space.check() == []
    assert all(space.count(parse_atom(t)) == 1 for t in SOME)


# ---------------------------------------------------------------- the CLI


def test_run_adds_and_removes_long_atoms(run, write, space_path):
    script = "\n".join(SOME[:4] + [f"!(add-atom &self {t})" for t in SOME[4:]]) + "\n"
    r = run("run", str(write("s.metta", script)))
    assert r.exit_code == 0, r.output
    assert r.stdout == "[()]\n" * len(SOME[4:])
    assert run("check").exit_code == 0
    assert lines(run("dump").stdout) == sorted(SOME)
    assert run("match", SOME[2], "found").stdout == "found\n"
    r = run("run", str(write("r.metta", "".join(f"!(remove-atom &self {t})\n" for t in SOME[::2]))))
    assert r.exit_code == 0 and r.stdout == "[()]\n" * len(SOME[::2])
    assert lines(run("dump").stdout) == sorted(SOME[1::2])
    assert run("check").exit_code == 0


@pytest.mark.parametrize("options", [(), ("--duplicates",), ("--bulk", "--jobs", "0"),
                                     ("--bulk", "--duplicates", "--jobs", "0")])
def test_load_and_dump_round_trip_long_atoms(run, write, tmp_path, options):
    r = run("load", *options, str(write("kb.metta", "\n".join(SOME + ["(short)"]) + "\n")))
    assert r.exit_code == 0, r.output
    assert run("check").exit_code == 0
    dumped = run("dump").stdout
    assert lines(dumped) == sorted(SOME + ["(short)"])
    again = tmp_path / "again.db"
    for fmt in ("metta", "paths"):
        out = tmp_path / f"kb.{fmt}"
        assert run("export", "--format", fmt, str(out)).exit_code == 0
        r = run("--db", str(again), "load", "--duplicates", str(out), db=False)
        assert r.exit_code == 0, r.output
    r = subprocess.run(mettadb_cmd("--db", str(again), "dump"), capture_output=True, text=True, check=True)
    assert lines(r.stdout) == sorted(2 * (SOME + ["(short)"]))


# ---------------------------------------------------------------- the hyperon bridge

_BRIDGE = r"""
import sys
from hyperon import MeTTa, S
from mettadb.hyperon import DurableSpace
kb = DurableSpace(sys.argv[1])
m = MeTTa(space=kb.ref)
long, string, huge = "x" * 600, '"' + "s" * 600 + '"', "y" * 100_000
print(m.run(f"{long}\n!(add-atom &self {string})\n!(size-atom (collapse (get-atoms &self)))"))
kb.ref.add_atom(S(huge))
print(m.run(f"!(match &self {long} ok)\n!(match &self {huge} ok)"))
m.run(f"!(remove-atom &self {string})")
"""


def test_the_hyperon_bridge_stores_long_atoms(space_path):
    pytest.importorskip("hyperon")
    p = subprocess.run([sys.executable, "-c", _BRIDGE, str(space_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.splitlines() == ["[[()], [2]]", "[[ok], [ok]]"]
    with mettadb.open(space_path, readonly=True) as sp:
        assert sorted(str(a) for a in sp) == ["x" * 600, "y" * 100_000] and sp.check() == []
