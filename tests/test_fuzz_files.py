"""Hostile input: fuzzed files, command lines and keys load, decode or fail cleanly."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from mettadb.cli.main import cli

import mettadb
from mettadb.atoms import Variable, iter_atoms
from mettadb.encoding import check_path


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_fuzzed_files_load_or_fail_cleanly(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("fz")
    f = d / "in.metta"
    f.write_bytes(data)
    with mettadb.open(d / "space") as sp:
        try:
            sp.load(f)
        except mettadb.ParseError as e:
            assert str(e).startswith(f"{f}:") and len(sp) == 0
        assert sp.check() == []


_cli_words = st.sampled_from(["load", "match", "stats", "dump", "eval", "run", "check", "--count", "--limit", "-1",
                              "(a $x)", "$x", "(", ")", "--json", "x.metta", "--explain", "!", "--db", "/nonexistent"])


@settings(max_examples=60)
@given(st.lists(_cli_words, max_size=5))
def test_fuzzed_command_lines_never_crash(tmp_path_factory, words):
    d = tmp_path_factory.mktemp("cl")
    r = CliRunner().invoke(cli, ["--db", str(d / "space"), *words])
    assert r.exit_code in (0, 1, 2), r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


def test_corrupted_keys_decode_or_fail_cleanly():
    """Every corrupted key either decodes to an atom whose encoding decodes back to it, or raises
    DecodeError (nothing else); the import validator agrees on which is which."""
    rng = random.Random(5)
    base = mettadb.encode(mettadb.atom('(Evaluation (Predicate likes) (List P1 "s" 42 $x))'))
    decoded = rejected = 0
    for _ in range(2000):
        b = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        key = bytes(b)
        try:
            a = mettadb.decode(key)
        except mettadb.DecodeError:
            rejected += 1
            with pytest.raises(mettadb.DecodeError):
                check_path(key)
            continue
        decoded += 1
        assert mettadb.alpha_equal(mettadb.decode(mettadb.encode(a)), a), key
        assert check_path(key) == len({x for x in iter_atoms(a) if type(x) is Variable}), key
    assert decoded > 100 and rejected > 100  # both outcomes are exercised
