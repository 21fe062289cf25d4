"""Bulk loads: sorted runs in bounded memory, the inactive slot built over many transactions, one flip."""

from __future__ import annotations

import os
import random
import threading

import pytest
from click.testing import CliRunner
from helpers import spy_builds
from hypothesis import given, settings
from hypothesis import strategies as st
from mettadb.cli.main import cli

import mettadb
import mettadb.bulk
import mettadb.loading
from mettadb.bulk import KeyRuns


def items(sp):
    return sorted((str(a), n) for a, n in sp.items())


def write_kb(path, n, seed=1):
    rnd = random.Random(seed)
    lines = []
    for i in range(n):
        lines.append(f"(parent P{rnd.randrange(n // 4 + 1)} P{rnd.randrange(n // 4 + 1)})")
        lines.append(f"(age P{i} {rnd.randrange(90)})")
        if i % 97 == 0:
            lines.append(f"(= (rule{i % 5} $x) (g $x {i}))")
        if i % 301 == 0:
            lines.append(f"(long {'y' * 600} {i % 3})")
        if i % 53 == 0:
            lines.append(f"sym{i % 7}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def small_runs(monkeypatch):
    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 700)
    monkeypatch.setattr(mettadb.bulk, "BUCKET_KEYS", 300)


@pytest.mark.parametrize("duplicates", [False, True])
def test_bulk_and_single_transaction_loads_agree(tmp_path, small_runs, duplicates):
    a = write_kb(tmp_path / "a.metta", 4000, seed=1)
    b = write_kb(tmp_path / "b.metta", 1500, seed=2)
    with mettadb.open(tmp_path / "bulk") as bulk, mettadb.open(tmp_path / "direct") as direct:
        for f in (a, b, a):  # into an empty space, a non-empty one, and again
            gen = bulk.generation
            rb = bulk.load(f, bulk=True, duplicates=duplicates)
            rd = direct.load(f, bulk=False, duplicates=duplicates)
            assert (rb.read, rb.added, rb.present) == (rd.read, rd.added, rd.present)
            assert bulk.generation == gen + (1 if rb.added or duplicates else 0)  # adding nothing commits nothing
            assert items(bulk) == items(direct)
            assert bulk.check() == [] and bulk.stats()["heads"] == direct.stats()["heads"]
        assert [str(x) for x in bulk.match("(rule1 $y)")] == [str(x) for x in direct.match("(rule1 $y)")]
        assert sorted(map(str, bulk.match("(parent $p P3)", "$p"))) == sorted(map(str, direct.match("(parent $p P3)", "$p")))
    assert not [n for n in os.listdir(tmp_path / "bulk") if n.startswith(".load-")]  # run files are gone


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "q", "r"]), st.integers(0, 30), st.integers(0, 5)), max_size=120),
       st.lists(st.tuples(st.sampled_from(["p", "s"]), st.integers(0, 30), st.integers(0, 5)), max_size=60),
       st.booleans(), st.integers(2, 50), st.integers(1, 40))
def test_bulk_load_equals_the_single_transaction_load(tmp_path_factory, first, second, duplicates, run_keys,
                                                      bucket_keys):
    tmp = tmp_path_factory.mktemp("prop")
    files = []
    for k, facts in enumerate((first, second)):
        f = tmp / f"{k}.metta"
        f.write_text("".join(f"({h} {x} {y})\n" for h, x, y in facts))
        files.append(f)
    old = mettadb.bulk.RUN_KEYS, mettadb.bulk.BUCKET_KEYS
    mettadb.bulk.RUN_KEYS, mettadb.bulk.BUCKET_KEYS = run_keys, bucket_keys
    try:
        with mettadb.open(tmp / "b") as b, mettadb.open(tmp / "d") as d:
            for f in files:
                rb, rd = b.load(f, bulk=True, duplicates=duplicates), d.load(f, bulk=False, duplicates=duplicates)
                assert (rb.added, rb.present) == (rd.added, rd.present)
            assert items(b) == items(d) and b.check() == []
    finally:
        mettadb.bulk.RUN_KEYS, mettadb.bulk.BUCKET_KEYS = old


def test_key_runs_merge_any_order_in_bounded_runs(tmp_path):
    rnd = random.Random(3)
    keys = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 6))) for _ in range(5000)]
    for copies in (1, 3):
        with KeyRuns(str(tmp_path), f"k{copies}", bucket_keys=200) as runs:
            for k in keys * copies:
                runs.append(k)
                if len(runs.keys) >= 300:
                    runs.spill()
            buckets = list(runs.buckets())
            again = list(runs.buckets())  # a bulk load redone after a concurrent writer merges twice
        assert again == buckets
        assert len(buckets) > 5 and runs.spilled > 0
        got = [k for _, _, ks in buckets for k in ks]
        assert got == sorted(keys * copies)
        for lo, hi, ks in buckets:
            assert all(lo <= k and (hi is None or k < hi) for k in ks)


def test_key_runs_adopt_runs_written_elsewhere(tmp_path):
    rnd = random.Random(4)
    keys = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 6))) for _ in range(3000)]
    other = KeyRuns(str(tmp_path), "other")
    for k in keys[:2000]:
        other.append(k)
        if len(other.keys) >= 700:
            other.spill()
    files = other.run_files()
    assert len(files.paths) == 3 and files.keys == 2000 and not other.keys
    with KeyRuns(str(tmp_path), "mine", bucket_keys=300) as runs:
        for k in keys[2000:]:
            runs.append(k)
        runs.adopt(files)
        assert [k for _, _, ks in runs.buckets() for k in ks] == sorted(keys)
    assert not list(tmp_path.iterdir())


def test_a_parse_error_in_a_bulk_load_changes_nothing(tmp_path, small_runs):
    good = write_kb(tmp_path / "good.metta", 3000)
    bad = tmp_path / "bad.metta"
    bad.write_text("(fine 1)\n" * 2000 + "(fine 2)\n(broken\n")
    space = tmp_path / "space"
    with mettadb.open(space) as sp:
        sp.load(good, bulk=True)
        before, gen = items(sp), sp.generation
        with pytest.raises(mettadb.ParseError, match=r"bad\.metta:2002:1: '\(' is never closed"):
            sp.load(good, bad, bulk=True)
        assert items(sp) == before and sp.generation == gen and sp.check() == []
    assert not [n for n in os.listdir(space) if n.startswith(".load-")]


def test_a_writer_during_a_bulk_load_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 2000)
    monkeypatch.setattr(mettadb.bulk, "BUCKET_KEYS", 500)
    monkeypatch.setattr(mettadb.loading, "BULK_COMMIT_ROWS", 500)
    kb = write_kb(tmp_path / "kb.metta", 20_000)
    space = tmp_path / "space"
    mettadb.open(space).close()
    stop = threading.Event()
    written = []

    def writer():
        with mettadb.open(space) as w:
            i = 0
            while not stop.is_set():
                w.add(f"(side {i})")
                written.append(i)
                i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        with mettadb.open(space) as sp:
            try:
                sp.load(kb, bulk=True)
                loaded = True
            except mettadb.MettaDBError as e:
                assert "kept changing during the bulk load; nothing was written" in str(e)
                loaded = False
    finally:
        stop.set()
        t.join()
    with mettadb.open(tmp_path / "direct") as direct:
        direct.load(kb, bulk=False)
        expected = items(direct)
    with mettadb.open(space, readonly=True) as sp:
        assert sp.check() == []
        assert sorted(int(str(x)) for x in sp.match("(side $i)", "$i")) == written  # no add was lost
        assert len(written) > 0
        kb_items = [(a, n) for a, n in items(sp) if not a.startswith("(side ")]
        # the load landed whole or (when the writer kept it from finishing) not at all
        assert kb_items == (expected if loaded else [])


def test_writes_while_a_bulk_load_parses_are_kept(tmp_path, monkeypatch):
    """Adds committed by another handle before the load's first staged transaction land beside the load."""
    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 2000)
    monkeypatch.setattr(mettadb.bulk, "BUCKET_KEYS", 500)
    kb = write_kb(tmp_path / "kb.metta", 5000)
    space = tmp_path / "space"
    with mettadb.open(space) as sp:
        sp.add("(side before)")
    written = []
    with mettadb.open(space) as other, mettadb.open(space) as sp:
        def progress(_bytes, _atoms):
            other.add(f"(side {len(written)})")
            written.append(len(written))

        report = sp.load(kb, bulk=True, progress=progress)
    assert report.mode == "bulk" and len(written) > 3
    with mettadb.open(tmp_path / "direct") as direct:
        direct.add("(side before)")
        direct.add_all(f"(side {i})" for i in written)
        direct.load(kb, bulk=False)
        expected = items(direct)
    with mettadb.open(space, readonly=True) as sp:
        assert sp.check() == [] and items(sp) == expected


def test_cli_bulk_flag(tmp_path):
    kb = write_kb(tmp_path / "kb.metta", 500)
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s"), "load", "--bulk", str(kb)])
    assert r.exit_code == 0 and "loaded" in r.stderr
    with mettadb.open(tmp_path / "s", readonly=True) as sp:
        assert sp.check() == [] and sp.slot == 1
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s"), "load", "--no-bulk", str(kb)])
    assert r.exit_code == 0 and " 0 added" in r.stderr


def test_a_bulk_reload_that_adds_nothing_copies_and_commits_nothing(tmp_path):
    kb = write_kb(tmp_path / "kb.metta", 6000)
    same = tmp_path / "same.metta"  # the same atoms in other bytes: probed, not recognised (test_reload.py)
    same.write_text("; again\n" + kb.read_text())
    with mettadb.open(tmp_path / "s") as sp:
        first = sp.load(kb, bulk=True)
        size, gen = os.path.getsize(tmp_path / "s" / "data.mdb"), sp.generation
        again = sp.load(same, bulk=True)
        assert (again.mode, again.added, again.present) == ("bulk", 0, first.read)
        assert "flip" not in again.stages and again.stages["delta check"] > 0
        assert os.path.getsize(tmp_path / "s" / "data.mdb") == size and sp.generation == gen
        assert sp.check() == []


@pytest.mark.parametrize("delta_max", [50_000, 10])
def test_a_bulk_load_adding_a_few_atoms_writes_them_in_place(tmp_path, monkeypatch, delta_max):
    monkeypatch.setattr(mettadb.loading, "DELTA_MAX", delta_max)
    kb = write_kb(tmp_path / "kb.metta", 6000)
    more = tmp_path / "more.metta"
    more.write_text(kb.read_text() + "(parent P1 New1)\n(fresh 1 2)\n(= (new-rule $x) $x)\nlonely\n")
    with mettadb.open(tmp_path / "bulk") as bulk, mettadb.open(tmp_path / "direct") as direct:
        for f in (kb, more):
            rb, rd = bulk.load(f, bulk=True), direct.load(f, bulk=False)
            assert (rb.read, rb.added, rb.present) == (rd.read, rd.added, rd.present)
        assert rb.added == 4
        assert ("flip" in rb.stages) == (delta_max < 4)  # past DELTA_MAX the other slot is built
        assert items(bulk) == items(direct)
        assert bulk.check() == [] and bulk.stats()["heads"] == direct.stats()["heads"]
        assert [str(x) for x in bulk.match("(parent $p New1)", "$p")] == ["P1"]


def test_bulk_loads_parse_in_workers_and_agree(tmp_path, monkeypatch):
    import mettadb.pload

    monkeypatch.setattr(mettadb.pload, "MIN_CHUNK", 8192)
    monkeypatch.setattr(mettadb.pload, "MAX_CHUNK", 16384)
    kb = write_kb(tmp_path / "kb.metta", 6000)
    with mettadb.open(tmp_path / "one") as one, mettadb.open(tmp_path / "two") as two:
        r1, r2 = one.load(kb, bulk=True, jobs=1), two.load(kb, bulk=True, jobs=2)
        assert (r1.workers, r2.workers) == (0, 1)
        assert (r1.read, r1.added) == (r2.read, r2.added)
        assert items(one) == items(two) and two.check() == []
        assert set(r2.stages) >= {"parse", "merge", "append", "commit", "flip"}
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "cli"), "load", "--bulk", "--jobs", "2", str(kb)])
    assert r.exit_code == 0 and "loaded" in r.stderr
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "cli"), "load", "--jobs", "-1", str(kb)])
    assert r.exit_code == 1 and r.stderr.startswith("Error: Invalid value for '--jobs'")


def slot_bytes(path):
    """Every (key, value) of the live slot's databases and the space's `seq`, as stored."""
    from mettadb.store import Store

    with Store(path, readonly=True) as store, store.read() as txn:
        dbs = store.slot_dbs(store.slot)
        out = {name: list(txn.cursor(db=getattr(dbs, name)).iternext()) for name in ("atoms", "rev", "vx", "heads")}
        out["seq"] = txn.get(b"seq", db=store.meta_db)
        return out


def write_nested(path, n, sep, seed=5):
    """Lines with nested expressions (words, numbers, strings with spaces and escapes, variables), each with
    `sep` between the head and the rest: a tab keeps every line off the bulk text path, a space does not."""
    rnd = random.Random(seed)
    words = ["a", "P1", "likes", "007", "-3", "1.5", "0.114", "%s", "&self", "'q", '"Ann 0"', '"x\\"y"', "$x", "True"]

    def item(depth):
        if depth and rnd.random() < 0.4:
            return "(" + " ".join(item(depth - 1) for _ in range(rnd.randrange(1, 4))) + ")"
        return rnd.choice(words)

    lines = []
    for i in range(n):
        head = rnd.choice(["Evaluation", "f", "g"])
        rest = " ".join(item(2) for _ in range(rnd.randrange(1, 4)))
        lines.append(f"({head}{sep}(List P{i % 50} {rnd.randrange(9)}) {rest})")
        if i % 7 == 0:
            lines.append(f"(h{sep}P{i % 13} {i % 5} x)")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_nested_lines_taken_in_bulk_store_the_bytes_of_the_per_atom_path(tmp_path, small_runs):
    fast = write_nested(tmp_path / "fast.metta", 3000, " ")
    slow = write_nested(tmp_path / "slow.metta", 3000, "\t")  # the same atoms at the same byte offsets
    assert os.path.getsize(fast) == os.path.getsize(slow)
    for duplicates in (False, True):
        for f in (fast, slow):
            with mettadb.open(tmp_path / f"{f.stem}-{duplicates}") as sp:
                sp.load(f, bulk=True, duplicates=duplicates)
                sp.load(f, bulk=True, duplicates=duplicates)  # merged with itself
                assert sp.check() == []
        a, b = slot_bytes(tmp_path / f"fast-{duplicates}"), slot_bytes(tmp_path / f"slow-{duplicates}")
        assert len(a["atoms"]) > 2000 and len(a["rev"]) > 1000
        assert a == b


def test_a_small_parallel_load_merges_the_loaders_keys_from_memory(tmp_path, monkeypatch):
    """The loader's own keys of a load of at most twice the budget are merged with the workers' runs as they
    are, not written to a run and read back; the space is the same, byte for byte."""
    import mettadb.pload

    monkeypatch.setattr(mettadb.pload, "MIN_CHUNK", 8192)
    monkeypatch.setattr(mettadb.pload, "MAX_CHUNK", 16384)
    seen = spy_builds(monkeypatch)
    kb = write_kb(tmp_path / "kb.metta", 6000)
    for name, run_keys in (("held", mettadb.bulk.RUN_KEYS), ("spilled", 4000)):
        monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", run_keys)  # 4000: the load is large, its keys are spilled
        with mettadb.open(tmp_path / name) as sp:
            assert sp.load(kb, bulk=True, jobs=2).workers == 1
            sp.load(kb, bulk=True, jobs=2, duplicates=True)  # merged with the live slot too
            assert sp.check() == []
    assert slot_bytes(tmp_path / "held") == slot_bytes(tmp_path / "spilled")
    assert [bool(a and r) for a, r, _, _ in seen] == [True, True, False, False]
    assert all(sa and sr for _, _, sa, sr in seen)  # the workers' runs


@pytest.mark.parametrize("big_space", [False, True])  # the space's keys walked beside the input's, or probed
def test_a_bulk_load_finds_what_is_new_range_by_range(tmp_path, monkeypatch, big_space):
    monkeypatch.setattr(mettadb.bulk, "BUCKET_KEYS", 500)  # many ranges
    kb = write_kb(tmp_path / "kb.metta", 6000)
    lines = kb.read_text().splitlines()
    part = lines[:3000] if not big_space else lines[:200]
    more = tmp_path / "more.metta"
    more.write_text("\n".join(part + ["(parent P1 New1)", "(aaa first)", "(zzz last)", part[0]]) + "\n")
    with mettadb.open(tmp_path / "bulk") as bulk, mettadb.open(tmp_path / "direct") as direct:
        for f in (kb, more):
            rb, rd = bulk.load(f, bulk=True), direct.load(f, bulk=False)
            assert (rb.read, rb.added, rb.present) == (rd.read, rd.added, rd.present)
        assert rb.added == 3 and "flip" not in rb.stages
        assert items(bulk) == items(direct) and bulk.check() == []
        again = bulk.load(more, bulk=True)
        assert again.added == 0 and "flip" not in again.stages
