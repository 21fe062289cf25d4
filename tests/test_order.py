"""Insertion order (format 3): stored atoms come back as hyperon returns them, in the order they were added.

The oracle is a plain Python list of [atom text, copies] in first-insertion
order (hyperon keeps an atom's copies together, where the atom first went; a
removed atom's last copy forgets its place): it shares no code with the store.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import TrieModel, trie_text

import mettadb
from mettadb.layout import FIRST_SEQ
from mettadb.query import ordered_atoms, ordered_query

#: atoms whose key order differs from the orders the tests add them in
POOL = ["(k zebra)", "(k apple)", "(k mango)", "(k 42)", '(k "s")', "(= (f $x) (g $x))", "(k (n 1))", "(j a b)",
        "(k $y)", "(= (f 1) one)"]


class ListModel:
    """hyperon's order of a space as a list: (atom, copies) in first-insertion order."""

    def __init__(self) -> None:
        self.entries: list[list] = []

    def add(self, text: str) -> None:
        for e in self.entries:
            if e[0] == text:
                e[1] += 1
                return
        self.entries.append([text, 1])

    def remove(self, text: str) -> None:
        for i, e in enumerate(self.entries):
            if e[0] == text:
                e[1] -= 1
                if not e[1]:
                    del self.entries[i]
                return

    def atoms(self) -> list[str]:
        return [t for t, n in self.entries for _ in range(n)]


ops = st.lists(st.tuples(st.sampled_from(["add", "add", "remove", "clear"]), st.sampled_from(POOL)), max_size=40)


def _apply(sp, ops, group, add, remove, clear) -> None:
    """The ops on the space and on the model, `group` writes per transaction (and across them)."""
    for start in range(0, len(ops), group):
        with sp.transaction():
            for op, text in ops[start:start + group]:
                if op == "add":
                    sp.add(text)
                    add(text)
                elif op == "remove":
                    sp.remove(text)
                    remove(text)
                elif clear is not None and text == POOL[0]:  # now and then
                    sp.clear()
                    clear()


@settings(max_examples=60)
@given(ops=ops, group=st.integers(min_value=1, max_value=5))
def test_random_adds_and_removes_come_back_in_the_list_models_order(tmp_path_factory, ops, group):
    model = ListModel()
    with mettadb.open(tmp_path_factory.mktemp("order") / "s") as sp:
        _apply(sp, ops, group, model.add, model.remove, model.entries.clear)
        assert [str(a) for a in sp.atoms(ordered=True)] == model.atoms()
        assert sp.check() == []


#: atoms that share trie nodes in many ways: heads, first arguments, nested expressions, variables,
#: several arities under one head (no two alike up to variable names: mettadb stores those as one atom)
TRIE_POOL = ["(k zebra)", "(k apple)", "(k (n 1))", "(k (n 2) x)", "(k $y)", "(j a b)", "(j a c)",
             "(j b a)", "(k apple pie)", "(= (f $x) (g $x))", "(= (f 1) one)", "(= (f $y) two)", "(k (m))",
             "(j $y b)", "lone", "(k 42)", '(k "s")']
QUERIES = ["$x", "(k $v)", "(j $a $b)", "(j a $b)", "(j $a b)", "(k (n $n))", "(= (f 1) $r)", "(= (f $a) $r)",
           "($h $a $b)", "(k apple)", "($h apple)"]
trie_ops = st.lists(st.tuples(st.sampled_from(["add", "add", "add", "remove"]), st.sampled_from(TRIE_POOL)),
                    max_size=40)


@settings(max_examples=80)
@given(ops=trie_ops, group=st.integers(min_value=1, max_value=5))
def test_queries_come_back_in_the_order_of_an_independent_model_of_hyperons_trie(tmp_path_factory, ops, group):
    model = TrieModel()
    with mettadb.open(tmp_path_factory.mktemp("trie") / "s") as sp:
        _apply(sp, ops, group, lambda t: model.add(mettadb.atom(t)), lambda t: model.remove(mettadb.atom(t)), None)
        for q in QUERIES:
            pattern = mettadb.atom(q)
            got = [str(b.resolve(pattern)) for b in ordered_query(sp, pattern)]
            want = [str(_instantiate(pattern, trie_text(t))) for t in model.query(pattern)]
            assert _alpha(got) == _alpha(want), q
        assert [str(a) for a in ordered_atoms(sp)] == [trie_text(t) for t in model.query(mettadb.atom("$x"))]
        assert sp.check() == []
        assert sp.stats()["atoms"] == len(model.query(mettadb.atom("$x")))  # (kept node numbers are no totals)


def _instantiate(pattern, text: str):
    """The pattern as a match with the stored atom `text` leaves it (the oracle gives stored atoms)."""
    import re

    from oracle import unify as ounify
    from oracle import walk

    stored = mettadb.atom(re.sub(r"\$", "$s_", text))  # the stored atom's variables apart from the pattern's
    s = ounify(pattern, stored, {})
    assert s is not None, (pattern, text)

    def res(a):
        a = walk(a, s)
        if isinstance(a, mettadb.Expression):
            return mettadb.Expression(tuple(res(c) for c in a.children))
        return a
    return res(pattern)


def _alpha(texts: list[str]) -> list[str]:
    """Variable names made positional (a match's leftover variables are renamed fresh)."""
    import re

    out = []
    for t in texts:
        names: dict[str, str] = {}

        def positional(m: re.Match[str], names: dict[str, str] = names) -> str:
            return names.setdefault(m.group(0), f"$v{len(names)}")
        out.append(re.sub(r"\$[^\s()]+", positional, t))
    return out


def test_clear_starts_numbering_again(space):
    assert space.meta(b"seq") == FIRST_SEQ
    space.add_all(["(b)", "(a)"])
    assert space.meta(b"seq") == FIRST_SEQ + 2
    space.clear()
    assert space.meta(b"seq") == FIRST_SEQ
    space.add_all(["(c)", "(a)"])
    assert [str(a) for a in space.atoms(ordered=True)] == ["(c)", "(a)"]
    assert space.check() == []


def test_a_reserved_number_orders_an_atom_added_later_where_it_was_reserved(space):
    space.add("(first)")
    seq = space.reserve_seq()
    space.add("(third)")
    space.add("(second)", seq=seq)
    space.add("(first)", seq=space.reserve_seq())  # a copy keeps its atom's number
    assert [str(a) for a in space.atoms(ordered=True)] == ["(first)", "(first)", "(second)", "(third)"]
    with space.transaction():
        seq = space.reserve_seq()
        space.add("(fifth)")
        space.add("(fourth)", seq=seq)
    assert [str(a) for a in space.atoms(ordered=True)][-2:] == ["(fourth)", "(fifth)"]
    assert space.check() == []


def test_a_load_numbers_new_atoms_in_input_order(space, write):
    space.add("(k mango)")
    f = write("in.metta", "(k zebra)\n(k apple)\n(k mango)\n(= (k) $x)\n(k banana)\n(k apple)\n")
    space.load(f, bulk=False)
    assert [str(a) for a in space.atoms(ordered=True)] == ["(k mango)", "(k zebra)", "(k apple)", "(= (k) $x)",
                                                          "(k banana)"]
    assert space.check() == []


def _text(n: int) -> str:
    # keys out of input order: the numbers' text sorts differently from their values
    return "".join(f"(item {(i * 7919) % n} {i})\n" for i in range(n)) + f"(= (item) $x)\n(item {(3 * 7919) % n} 3)\n"


def test_a_bulk_load_numbers_new_atoms_in_input_order(space, write, monkeypatch):
    import mettadb.bulk

    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 500)  # spilled runs, several buckets
    space.add("(item 5 9999)")
    space.add("(item 0 0)")
    f = write("in.metta", _text(3000))
    report = space.load(f, bulk=True, jobs=1)
    assert report.mode == "bulk"
    expected = ["(item 5 9999)", "(item 0 0)"] + [f"(item {(i * 7919) % 3000} {i})" for i in range(1, 3000)] + \
        ["(= (item) $x)"]
    assert [str(a) for a in space.atoms(ordered=True)] == expected
    assert space.check() == []
    g = write("more.metta", "(item z 1)\n(item a 1)\n(item 0 0)\n")
    space.load(g, bulk=True)  # a few new atoms: added to the live slot
    assert [str(a) for a in space.atoms(ordered=True)][-2:] == ["(item z 1)", "(item a 1)"]
    assert space.check() == []


def test_a_parallel_bulk_load_numbers_in_input_order(space, write, monkeypatch):
    import mettadb.pload

    monkeypatch.setattr(mettadb.pload, "MIN_CHUNK", 4096)
    monkeypatch.setattr(mettadb.pload, "MAX_CHUNK", 8192)
    f = write("in.metta", _text(4000))
    report = space.load(f, bulk=True, jobs=3)
    assert report.workers > 0
    expected = [f"(item {(i * 7919) % 4000} {i})" for i in range(4000)] + ["(= (item) $x)"]
    assert [str(a) for a in space.atoms(ordered=True)] == expected
    assert space.check() == []


def test_a_duplicates_bulk_load_keeps_copies_at_the_first(space, write):
    f = write("in.metta", "(b 1)\n(a 1)\n(b 1)\n(c 1)\n(a 1)\n" * 3)
    space.load(f, bulk=True, duplicates=True, jobs=1)
    assert [str(a) for a in space.atoms(ordered=True)] == ["(b 1)"] * 6 + ["(a 1)"] * 6 + ["(c 1)"] * 3
    assert space.check() == []


def test_the_order_survives_reopening_in_a_new_process(tmp_path):
    db = tmp_path / "s"
    with mettadb.open(db) as sp:
        sp.run("(= (color) red) (= (color) green) (= (color) blue) (fruit pear) (fruit apple) (fruit fig)")
        sp.remove("(fruit apple)")
        sp.add("(fruit apple)")
    script = textwrap.dedent(f"""
        import mettadb
        with mettadb.open({str(db)!r}) as sp:
            print([[str(a) for a in r] for r in sp.run("!(color) !(match &self (fruit $x) $x)")])
            print([str(a) for a in sp.atoms(ordered=True)])
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent).stdout.splitlines()
    assert out[0] == str([["red", "green", "blue"], ["pear", "fig", "apple"]])
    assert out[1] == str(["(= (color) red)", "(= (color) green)", "(= (color) blue)", "(fruit pear)", "(fruit fig)",
                          "(fruit apple)"])


def _mixed_lines(n: int) -> list[str]:
    """Lines of every kind the bulk text path sorts apart (taken a block at a time as `(h a b)`, `(h a n)`
    with a float, flat words or a string; or yielded one by one: nested, variables, two atoms on a line,
    wide), interleaved, with keys out of input order."""
    kinds = [
        lambda i: f"(item {(i * 7919) % n} {i})",
        lambda i: f"(flt x{(i * 31) % n} {i}.5)",
        lambda i: f"(wide a{i % 7} b{(i * 13) % n} c d)",
        lambda i: f'(name p{(i * 17) % n} "s {i}")',
        lambda i: f"(nest (q {(i * 7) % n}) r{i})",
        lambda i: f"(= (var {i}) $x{i})",
        lambda i: f"(two {i}) (three {(i * 3) % n})",
        lambda i: f"(w{(i * 11) % n})",
    ]
    return [kinds[(i * 5) % len(kinds)](i) for i in range(n)]


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_bulk_load_of_mixed_lines_numbers_them_in_input_order(tmp_path, write, monkeypatch, jobs):
    """The block-at-a-time text path numbers the lines it takes in bulk among those it yields, in input order
    (several 32 KiB blocks, spilled runs, the pre-merge; and in parallel ranges)."""
    import mettadb.bulk
    import mettadb.pload

    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 3000)
    monkeypatch.setattr(mettadb.bulk, "FAN_IN", 4)
    monkeypatch.setattr(mettadb.pload, "MIN_CHUNK", 16 << 10)
    monkeypatch.setattr(mettadb.pload, "MAX_CHUNK", 32 << 10)
    lines = _mixed_lines(6000)
    f = write("in.metta", "; a comment\n" + "\n".join(lines) + "\n")
    with mettadb.open(tmp_path / "bulk") as sp, mettadb.open(tmp_path / "one") as ref:
        report = sp.load(f, bulk=True, jobs=jobs)
        assert report.mode == "bulk"
        if jobs > 1:
            assert report.workers > 0
        ref.load(f, bulk=False)  # the writer's numbering, one atom at a time
        got = [str(a) for a in sp.atoms(ordered=True)]
        assert got == [str(a) for a in ref.atoms(ordered=True)]
        assert got[:4] == lines[:4]  # (h a b), a variable, four words, one word
        assert sp.check() == []


def _shuffled_dump(tmp_path, lines: list[str]):
    """A `.paths` dump of `lines`' atoms in an order unlike the export's (insertion) order and key order."""
    import struct
    import zlib

    from mettadb.interchange import read_paths

    src = tmp_path / "src.metta"
    src.write_text("\n".join(lines) + "\n" + f"(long {'q' * 300} end)\n")
    exported = tmp_path / "exported.paths"
    with mettadb.open(tmp_path / "export-space") as sp:
        sp.load(src, bulk=False)
        with open(exported, "wb") as fh:
            sp.export(fh, "paths")
    with open(exported, "rb") as fh:
        records = [path for path, _ in read_paths(fh)]
    records = records[1::2] + records[::2][::-1]  # interleaved again, out of key order
    dump = tmp_path / "shuffled.paths"
    dump.write_bytes(zlib.compress(b"".join(struct.pack("<I", len(r)) + r for r in records)))
    return dump


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_bulk_paths_load_numbers_records_in_dump_order(tmp_path, monkeypatch, jobs):
    """The block `.paths` path (one findall a piece, flat and nested records cut out, the others walked)
    numbers records in the dump's order: as the one-at-a-time load does, in blocks, pieces and workers."""
    import mettadb.bulk
    import mettadb.interchange
    import mettadb.pload

    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 3000)
    monkeypatch.setattr(mettadb.bulk, "FAN_IN", 4)
    monkeypatch.setattr(mettadb.pload, "PATHS_BLOCK", 16 << 10)
    monkeypatch.setattr(mettadb.pload, "MIN_CHUNK", 2048)
    monkeypatch.setattr(mettadb.interchange, "_PIECE", 4096)
    dump = _shuffled_dump(tmp_path, _mixed_lines(6000))
    with mettadb.open(tmp_path / "bulk") as sp, mettadb.open(tmp_path / "one") as ref:
        report = sp.load_paths(dump, bulk=True, jobs=jobs)
        assert report.mode == "bulk"
        if jobs > 1:
            assert report.workers > 0
        ref.load_paths(dump, bulk=False)
        got = [str(a) for a in sp.atoms(ordered=True)]
        assert len(got) > 6000
        assert got == [str(a) for a in ref.atoms(ordered=True)]
        assert sp.check() == []


def test_stats_after_a_removal_that_leaves_its_branch_alive(tmp_path):
    # the removal keeps the branch's number under a binary metadata key: `stats` shows the totals
    from click.testing import CliRunner
    from mettadb.cli.main import cli

    db = str(tmp_path / "s")
    r = CliRunner().invoke(cli, ["--db", db, "run", "-"], input="(e c)\n(e a)\n!(remove-atom &self (e c))\n")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["--db", db, "stats"])
    assert r.exit_code == 0, r.output
    assert "atoms           1" in r.output


#: ground atoms only, no removals: the queries take `trieorder.ground_permutation`, ordered from the keys'
#: bytes (siblings deep inside, copies, numbers, strings)
GROUND_POOL = ["(p a b)", "(p b a)", "(p a c)", "(p a (q c))", "(p (q c) a)", "(p (q d) a)", "(p 1 x)", "(p 2.5 x)",
               '(p "s" b)', "(p a b c)", "(r a)", "(r (q (q a)))", "(r (q (q b)))"]
GROUND_QUERIES = ["$x", "(p $x $y)", "(p a $y)", "(p $x a)", "(p $x x)", "(p (q $z) $y)", "(r (q (q $z)))",
                  "($h $a $b)", "(r $x)", "(, (p $x $y) (p $y $z))", "(, (r $x) (p $y $x))"]
#: ... and operations (`+`: each atom a branch of its own), which the trie model does not know: against
#: the token path (`TriePath`, `trie_permutation`) instead
OPERATIONS = ["(p + 1)", "(p + 2)", "(= (f) (+ 1 2))", "(= (f) (+ 1 3))", "(p a +)", "(p b +)"]


@settings(max_examples=80)
@given(adds=st.lists(st.sampled_from(GROUND_POOL), max_size=30), group=st.integers(min_value=1, max_value=5))
def test_ground_atoms_come_back_in_the_trie_models_order(tmp_path_factory, adds, group):
    model = TrieModel()
    with mettadb.open(tmp_path_factory.mktemp("ground") / "s") as sp:
        _apply(sp, [("add", t) for t in adds], group, lambda t: model.add(mettadb.atom(t)), None, None)
        for q in GROUND_QUERIES[:-2]:
            pattern = mettadb.atom(q)
            got = [str(b.resolve(pattern)) for b in ordered_query(sp, pattern)]
            want = [str(_instantiate(pattern, trie_text(t))) for t in model.query(pattern)]
            assert got == want, q
            with sp.transaction():  # again inside a write transaction (the rows it keeps are its own)
                assert [str(b.resolve(pattern)) for b in ordered_query(sp, pattern)] == want, q


@settings(max_examples=60)
@given(adds=st.lists(st.sampled_from(GROUND_POOL + OPERATIONS), max_size=30))
def test_the_order_from_key_bytes_is_the_order_from_trie_tokens(tmp_path_factory, adds):
    import mettadb.query as q

    with mettadb.open(tmp_path_factory.mktemp("bytes") / "s") as sp:
        sp.add_all(adds)
        patterns = [mettadb.atom(t) for t in GROUND_QUERIES + ["(p + $y)", "(= (f) $r)", "(p $x +)"]]
        fast = [[str(b.resolve(p)) for b in ordered_query(sp, p)] for p in patterns]
        keep = q._ground_order
        q._ground_order = lambda entries, numbers: None  # the token path for every query
        try:
            q.clear_caches()
            slow = [[str(b.resolve(p)) for b in ordered_query(sp, p)] for p in patterns]
        finally:
            q._ground_order = keep
        assert fast == slow


def test_a_write_in_the_transaction_is_seen_by_the_next_ordered_query(space):
    """An ordered query keeps its rows for the version of the space it read: a write makes another."""
    with space.transaction():
        space.add_all(["(p a b)", "(p c b)"])
        pattern = mettadb.atom("(, (p $x b) (p $x $y))")
        assert [str(r.resolve(pattern)) for r in ordered_query(space, pattern)] == [
            "(, (p a b) (p a b))", "(, (p c b) (p c b))"]
        space.add("(p a d)")
        assert [str(r.resolve(pattern)) for r in ordered_query(space, pattern)] == [
            "(, (p a b) (p a b))", "(, (p a b) (p a d))", "(, (p c b) (p c b))"]
        space.remove("(p c b)")
        assert [str(r.resolve(pattern)) for r in ordered_query(space, pattern)] == [
            "(, (p a b) (p a b))", "(, (p a b) (p a d))"]


def test_chars_are_stored_and_keep_hyperons_order_in_a_new_process(tmp_path):
    """A Char is a grounded Python object that hyperon's trie keeps with the variables, a key of each
    atom's own; mettadb stores it (`mettadb dump` lists it) and a later process orders it so
    (what `metta` prints for both scripts run as one)."""
    db = tmp_path / "s"
    with mettadb.open(db) as sp:
        sp.run("(v 1) (v 'c') (u 'x' 1) (u y 2) (u 'x' 3)")
    script = textwrap.dedent(f"""
        import mettadb
        with mettadb.open({str(db)!r}) as sp:
            for r in sp.run("(v $z) (v 'd') !(match &self (v $x) $x) !(match &self (u $x $y) ($x $y)) "
                            "!(match &self (u 'x' $y) $y) !(match &self (v $x) (get-metatype $x)) "
                            "!(remove-atom &self (u 'x' 3)) !(match &self (u $x $y) ($x $y))"):
                print(" ".join(str(a) for a in r))
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent).stdout.splitlines()
    assert out == ["'c' $x 'd' 1", "('x' 1) ('x' 3) (y 2)", "1 3", "Grounded Variable Grounded Grounded", "()",
                   "('x' 1) ('x' 3) (y 2)"]
    with mettadb.open(db) as sp:
        assert sorted(str(a) for a in sp.atoms()) == ["(u 'x' 1)", "(u 'x' 3)", "(u y 2)", "(v $z)", "(v 'c')",
                                                     "(v 'd')", "(v 1)"]
