"""Atoms equal up to the names of their variables: one key, different atoms (format 4's record variants).

hyperon keeps `(k $y)` and `(k $z)` as two atoms; mettadb stores them under one key (the MORK path has no
names) as two variants of its record, each with its names, copies and insertion number.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mettadb
from mettadb.encoding import encode_with_names
from mettadb.keys import storage_key
from mettadb.layout import Record
from mettadb.query import ordered_atoms


def texts(space: mettadb.Space, ordered: bool = True) -> list[str]:
    return [str(a) for a in space.atoms(ordered=ordered)]


def record(space: mettadb.Space, text: str) -> Record:
    key = storage_key(encode_with_names(mettadb.atom(text))[0])
    with space.read() as txn:
        raw = txn.get(key, db=space.dbs.atoms)
    assert raw is not None
    return Record(key, raw)


def test_two_names_are_two_atoms_with_their_own_numbers(space):
    space.add("(k $y)")
    space.add("(k a)")
    space.add("(k $z)")
    space.add("(k $y)")
    assert texts(space) == ["(k $y)", "(k $y)", "(k a)", "(k $z)"]
    assert sorted(texts(space, ordered=False)) == ["(k $y)", "(k $y)", "(k $z)", "(k a)"]
    rec = record(space, "(k $q)")
    assert [(n, c) for n, c, _ in rec.variants] == [(["y"], 2), (["z"], 1)] and rec.count == 3
    assert rec.variants[0][2] < rec.variants[1][2]
    assert space.count("(k $q)") == 3 and space.count("(k $z)", exact=True) == 1
    assert space.count("(k $q)", exact=True) == 0
    assert sorted((str(a), n) for a, n in space.items()) == [("(k $y)", 2), ("(k $z)", 1), ("(k a)", 1)]
    assert len(space) == 4 and space.stats()["distinct"] == space.distinct == 3 and space.check() == []


def test_exact_removal_takes_only_the_names_given(space):
    space.add_all(["(k $y)", "(k $z)", "(k $y)"])
    assert not space.remove("(k $w)", exact=True)
    assert space.remove("(k $z)", exact=True)
    assert texts(space) == ["(k $y)", "(k $y)"]
    assert record(space, "(k $y)").more is None  # back to the one-atom shape
    assert space.remove("(k $y)", count=5, exact=True)
    assert texts(space) == [] and space.check() == []


def test_plain_removal_prefers_the_names_then_any_renaming(space):
    space.add_all(["(k $y)", "(k $z)"])
    assert space.remove("(k $z)")
    assert texts(space) == ["(k $y)"]
    space.add("(k $z)")
    assert space.remove("(k $w)")  # no (k $w): the last added of its renamings goes
    assert texts(space) == ["(k $y)"]
    assert space.replace("(k $v)", "(k done)") and texts(space) == ["(k done)"]
    assert not space.replace("(k $v)", "(k again)", exact=True)
    assert space.check() == []


def test_a_variant_added_again_after_removal_comes_last_under_its_node(space):
    space.add_all(["(k $y)", "(k $z)", "(k b)"])
    space.remove("(k $y)", exact=True)
    space.add("(k $y)")
    assert texts(space) == ["(k $z)", "(k b)", "(k $y)"]  # insertion order
    assert [str(a) for a in ordered_atoms(space)] == ["(k $z)", "(k $y)", "(k b)"]  # hyperon's trie
    assert space.check() == []


def test_variants_survive_reopening_and_export(space_path, tmp_path):
    with mettadb.open(space_path) as sp:
        sp.add_all(["(= (f $x) (one $x))", "(= (f 2) two)", "(= (f $y) (one $y))"])
    with mettadb.open(space_path, readonly=True) as sp:
        assert texts(sp) == ["(= (f $x) (one $x))", "(= (f 2) two)", "(= (f $y) (one $y))"]
        assert [str(a) for a in sp.eval("(f 1)")] == ["(one 1)", "(one 1)"]
        out = tmp_path / "out.metta"
        with open(out, "wb") as f:
            sp.export(f)
    assert out.read_text().splitlines() == ["(= (f $x) (one $x))", "(= (f 2) two)", "(= (f $y) (one $y))"]
    with mettadb.open(tmp_path / "again") as sp:
        sp.load(out)
        assert texts(sp) == ["(= (f $x) (one $x))", "(= (f 2) two)", "(= (f $y) (one $y))"]
        assert sp.load(out).added == 0  # a set union: each variant is there
        assert sp.check() == []


@pytest.mark.parametrize("bulk", [False, True])
def test_loads_keep_variants_apart(tmp_path, bulk):
    src = tmp_path / "kb.metta"
    src.write_text("(k $y)\n(k a)\n(k $z)\n(k $y)\n(p $a $b)\n(p $b $a)\n")
    with mettadb.open(tmp_path / "u") as sp:
        assert sp.load(src, bulk=bulk).added == 5
        assert texts(sp) == ["(k $y)", "(k a)", "(k $z)", "(p $a $b)", "(p $b $a)"]
        assert sp.load(src, bulk=bulk).added == 0
        assert sp.check() == []
    with mettadb.open(tmp_path / "d") as sp:
        sp.load(src, duplicates=True, bulk=bulk)
        assert texts(sp) == ["(k $y)", "(k $y)", "(k a)", "(k $z)", "(p $a $b)", "(p $b $a)"]
        assert sp.check() == []


def test_queries_meet_each_variant(space):
    space.add_all(["(k $y)", "(k $z)", "(k $y)", "(k a)"])
    assert len(list(space.query("(k $w)"))) == 4 and space.count_matches("(k $w)") == 4
    assert len(list(space.query("(, (k $w) (k a))"))) == 16  # (k a) meets the stored variables too
    assert [str(a) for a in space.eval("(collapse (match &self (k $w) found))")] == ["(found found found found)"]


def test_check_reports_a_broken_variant_record(space):
    space.add_all(["(k $y)", "(k $z)"])
    key = storage_key(encode_with_names(mettadb.atom("(k $y)"))[0])
    with space.env.begin(write=True) as txn:
        rec = Record(key, txn.get(key, db=space.dbs.atoms))
        txn.put(key, mettadb.layout.pack_value([5, rec.seq, ["y"], None, [[["y"], 1, rec.seq], [["y"], 1, rec.seq + 1]]]),
                db=space.dbs.atoms)
    problems = space.check()
    assert any("not all apart by names" in p for p in problems)
    assert any("its variants do not give" in p for p in problems)


NAMES = st.sampled_from(["a", "b", "c"])
OPS = st.lists(st.tuples(st.sampled_from(["add", "remove", "remove_exact"]), NAMES, NAMES), max_size=25)


@pytest.mark.parametrize("one_transaction", [False, True])
@settings(max_examples=60)
@given(ops=OPS)
def test_a_list_of_variants_is_the_oracle(tmp_path_factory, one_transaction, ops):
    """Adds and removals of `(p $x $y)` and `(p $x $x)` with names from a small set, against a list of
    [names, copies, number] whose atom equality is hyperon's (names matter); a plain removal falls back
    to the last added renaming.  In one transaction, the writer keeps the records of variants decoded
    between writes (`Writer._add_kept`)."""
    model: list[list] = []  # [names, copies, number], in order of number
    seq = 0
    with mettadb.open(tmp_path_factory.mktemp("v") / "s") as sp, \
            (sp.transaction() if one_transaction else contextlib.nullcontext()):
        for op, x, y in ops:
            names = (x, y) if x != y else (x,)
            text = f"(p ${x} ${y})" if x != y else f"(p ${x} ${x})"
            same = [v for v in model if v[0] == names]
            if op == "add":
                sp.add(text)
                if same:
                    same[0][1] += 1
                else:
                    model.append([names, 1, seq])
                    seq += 1
                continue
            exact = op == "remove_exact"
            shape = [v for v in model if len(v[0]) == len(names)]
            victim = same[0] if same else (shape[-1] if shape and not exact else None)
            assert sp.remove(text, exact=exact) == (victim is not None)
            if victim is not None:
                victim[1] -= 1
                if not victim[1]:
                    model.remove(victim)
            want = [f"(p ${v[0][0]} ${v[0][-1]})" for v in model for _ in range(v[1])]
            assert texts(sp) == want
            if not one_transaction:  # (the totals are written when a transaction commits)
                assert (sp.distinct, len(sp)) == (len(model), len(want))
            assert sp.count(text, exact=True) == sum(v[1] for v in model if v[0] == names)
    final = [f"(p ${v[0][0]} ${v[0][-1]})" for v in model for _ in range(v[1])]
    with mettadb.open(sp.path, readonly=True) as again:  # (what the transaction committed)
        assert again.check() == [] and texts(again) == final
        assert (again.distinct, len(again)) == (len(model), len(final))
