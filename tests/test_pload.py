"""Parallel parsing for bulk loads: ranges cut at top-level atoms, workers, and the fall-back to one pass."""

from __future__ import annotations

import itertools
import os
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import atoms

import mettadb.bulk
import mettadb.pload as pload
from mettadb.bulk import KeyRuns, Numbering
from mettadb.errors import DecodeError, ParseError
from mettadb.parser import parse


def write_mixed(path, n, seed=3):
    """Flat facts plus the awkward cases: nesting over lines, strings with parens and newlines, `!`, comments."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(f"(parent P{rnd.randrange(n)} P{i})")
        out.append(f'(name P{i} "Ann {i}")')
        if i % 7 == 0:
            out.append(f"(outer {i}\n  (inner a{i} b)\n  (inner c d))")
        if i % 11 == 0:
            out.append(f'(note P{i} "a (string)\n  (spanning lines)")')
        if i % 13 == 0:
            out.append(f"(= (rule{i % 4} $x) (g $x {i}))")
        if i % 17 == 0:
            out.append(f"!(side {i})")
        if i % 19 == 0:
            out.append(f"; comment {i}\n(long {'z' * 600} {i})")
        if i % 23 == 0:
            out.append(f"(edge P{i} P{rnd.randrange(n)}) ; trailing")
    path.write_text("\n".join(out) + "\n")
    return path


NUMBER = Numbering(1000, 5)


def collected(tmp_path, name, sources, jobs):
    d = tmp_path / name
    d.mkdir()
    akeys, rkeys = KeyRuns(str(d), "atoms", suffix=5), KeyRuns(str(d), "rev")
    complex_: dict = {}
    rep = pload.collect([str(s) for s in sources], str(d), akeys, rkeys, complex_, jobs=jobs, number=NUMBER)
    suffixed = [k for _, _, keys in akeys.buckets() for k in keys]
    r = [k for _, _, keys in rkeys.buckets() for k in keys]
    akeys.discard()
    rkeys.discard()
    return rep, [k[:-5] for k in suffixed], r, {k: (v[0], v[1], v[3]) for k, v in complex_.items()}, \
        input_order(suffixed, complex_)


def input_order(suffixed, complex_):
    """Every atom read (copies too, complex ones once), by the sequence number it was given."""
    rows = [(int.from_bytes(k[-4:], "big"), k[:-5]) for k in suffixed]
    rows += [(v[4], k) for k, v in complex_.items()]
    assert all(s >= NUMBER.base for s, _ in rows) and len({s for s, _ in rows}) == len(rows)
    return [k for _, k in sorted(rows)]


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(pload, "MIN_CHUNK", 4096)
    monkeypatch.setattr(pload, "MAX_CHUNK", 8192)


def test_small_inputs_start_no_worker(tmp_path):
    f = write_mixed(tmp_path / "kb.metta", 200)
    assert pload.plan_chunks(str(f), 8) == [(0, f.stat().st_size)]
    rep, *_ = collected(tmp_path, "one", [f], 8)
    assert rep.workers == 0 and rep.chunks == 1


def test_chunks_cover_the_file_and_start_at_expressions(tmp_path, tiny_chunks):
    f = write_mixed(tmp_path / "kb.metta", 3000)
    data = f.read_bytes()
    chunks = pload.plan_chunks(str(f), 2)
    assert len(chunks) > 10
    assert chunks[0][0] == 0 and chunks[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    assert all(data[s - 1:s + 1] == b"\n(" for s, _ in chunks[1:])


@pytest.mark.parametrize("run_keys", [1_000_000, 500])
def test_parallel_collect_equals_one_pass(tmp_path, tiny_chunks, monkeypatch, run_keys):
    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", run_keys)
    f = write_mixed(tmp_path / "kb.metta", 3000)
    g = write_mixed(tmp_path / "kb2.metta", 800, seed=4)
    seq = collected(tmp_path, "seq", [f, g], 1)
    par = collected(tmp_path, "par", [f, g], 2)
    assert seq[0].workers == 0 and par[0].workers == 1 and par[0].chunks > 10
    assert (par[0].read, par[0].bangs, par[0].bytes_read) == (seq[0].read, seq[0].bangs, seq[0].bytes_read)
    assert par[1:] == seq[1:]
    assert len(seq[1]) > 6000 and seq[3]  # ground keys and complex atoms were both seen
    assert not list((tmp_path / "par").iterdir())  # every run file was adopted and discarded


def test_a_cut_inside_an_expression_falls_back_to_one_pass(tmp_path, tiny_chunks):
    # every inner line starts with '(' at column 0, so cuts land inside the one big expression
    body = "\n".join(f"(inner {i} {'w' * 40})" for i in range(2000))
    f = tmp_path / "nested.metta"
    f.write_text(f"(fact a b)\n(outer\n{body})\n(fact c d)\n")
    assert len(pload.plan_chunks(str(f), 2)) > 5
    seq = collected(tmp_path, "seq", [f], 1)
    par = collected(tmp_path, "par", [f], 2)
    assert par[0].chunks == 1 and par[0].read == seq[0].read == 3
    assert par[1:] == seq[1:]


def test_a_parse_error_in_a_worker_range_names_its_line(tmp_path, tiny_chunks):
    lines = [f"(parent P{i} P{i + 1})" for i in range(5000)]
    lines[4321] = "(parent P1 (unclosed"
    f = tmp_path / "bad.metta"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError) as e:
        collected(tmp_path, "par", [f], 2)
    assert e.value.line == 4322


def paths_dump(tmp_path, text_file, name):
    import mettadb

    with mettadb.open(tmp_path / f"space-{name}") as sp:
        sp.load(text_file, duplicates=True, bulk=False)
        out = tmp_path / f"{name}.paths"
        with open(out, "wb") as f:
            sp.export(f, "paths")
    return out


def test_paths_blocks_read_like_read_paths(tmp_path):
    from mettadb.interchange import block_items, paths_blocks, read_paths
    from mettadb.keys import reverse_key

    dump = paths_dump(tmp_path, write_mixed(tmp_path / "kb.metta", 2000), "kb")
    with open(dump, "rb") as f:
        blocks = list(paths_blocks(f, "kb", block_size=5000))
    assert len(blocks) > 5 and blocks[0][1] == 1
    items = [it for block, first in blocks for it in block_items(block, first)]
    with open(dump, "rb") as f:
        expected = list(read_paths(f))
    assert [(p, n) for p, n, _ in items] == expected
    for path, names, tokens in items:
        if tokens is not None:
            assert b"".join(tokens) == path and reverse_key(tokens)
    assert sum(1 for _, _, t in items if t is not None) > 4000
    assert any(n for _, n, _ in items)


@pytest.mark.parametrize("bad, message", [
    (b"\x03\xc1a\xc1b\xc1$", "record 3: a symbol's text may not start with '$'"),
    (b"\x04\xc1a\xc1b\xc1c", "record 3: path ends inside an expression"),
    (b"\x02\xc1a\xc1b\xc1c", "record 3: 2 trailing bytes"),
])
def test_bad_paths_records_are_named(bad, message):
    import struct
    import zlib

    from mettadb.interchange import block_items, paths_blocks, read_paths

    good = b"\x03\xc1p\xc1q\xc1r"
    data = zlib.compress(b"".join(struct.pack("<I", len(r)) + r for r in (good, good, bad, good)))
    import io

    with pytest.raises(DecodeError) as e1:
        list(read_paths(io.BytesIO(data)))
    with pytest.raises(DecodeError) as e2:
        [it for b, f in paths_blocks(io.BytesIO(data)) for it in block_items(b, f)]
    assert message in str(e1.value) and str(e1.value) == str(e2.value)


def _collect_dump(d, dump, jobs):
    """A `.paths` dump collected into fresh key runs in `d`: (report, suffixed atom keys, reverse keys, complex)."""
    d.mkdir()
    akeys, rkeys = KeyRuns(str(d), "atoms", suffix=5), KeyRuns(str(d), "rev")
    complex_: dict = {}
    rep = pload.collect([str(dump)], str(d), akeys, rkeys, complex_, fmt="paths", jobs=jobs, number=NUMBER)
    suffixed = [k for _, _, ks in akeys.buckets() for k in ks]
    rev = [k for _, _, ks in rkeys.buckets() for k in ks]
    akeys.discard()
    rkeys.discard()
    return rep, suffixed, rev, complex_


def test_parallel_paths_collect_equals_one_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(pload, "MIN_CHUNK", 2048)
    monkeypatch.setattr(pload, "PATHS_BLOCK", 4096)
    dump = paths_dump(tmp_path, write_mixed(tmp_path / "kb.metta", 3000), "kb")

    def run(name, jobs):
        rep, suffixed, rev, complex_ = _collect_dump(tmp_path / name, dump, jobs)
        return rep, ([k[:-5] for k in suffixed], rev, {k: (v[0], v[1], v[3]) for k, v in complex_.items()},
                     input_order(suffixed, complex_))

    seq, par = run("seq", 1), run("par", 2)
    assert seq[0].workers == 0 and par[0].workers == 1 and par[0].chunks > 10
    assert par[0].read == seq[0].read > 7000
    assert par[1][:3] == seq[1][:3]  # numbering: per block, flat records before the others


def test_a_bad_record_in_a_worker_block_is_named(tmp_path, monkeypatch):
    import struct
    import zlib

    monkeypatch.setattr(pload, "MIN_CHUNK", 2048)
    monkeypatch.setattr(pload, "PATHS_BLOCK", 4096)
    recs = [b"\x03\xc1p" + bytes((0xC0 | len(s),)) + s + b"\xc1r" for s in (f"x{i}".encode() for i in range(5000))]
    recs[3777] = b"\x03\xc1p\xc1q"
    dump = tmp_path / "bad.paths"
    dump.write_bytes(zlib.compress(b"".join(struct.pack("<I", len(r)) + r for r in recs)))
    akeys, rkeys = KeyRuns(str(tmp_path), "atoms", suffix=5), KeyRuns(str(tmp_path), "rev")
    with pytest.raises(DecodeError, match="record 3778: path ends inside"):
        pload.collect([str(dump)], str(tmp_path), akeys, rkeys, {}, fmt="paths", jobs=2, number=NUMBER)


def test_block_keys_sort_records_as_block_items_do(tmp_path):
    import struct
    import zlib

    from mettadb.interchange import block_items, block_keys, paths_blocks

    f = write_mixed(tmp_path / "kb.metta", 1500)
    extra = ["(pair a b)", f"(wide {' '.join(f'w{i}' for i in range(20))})", f"(big {'q' * 480} r s)",
             '(s "x\\ty" 1.5 -3 True)', "(one)"]
    f.write_text(f.read_text() + "\n".join(extra) + "\n")
    dump = paths_dump(tmp_path, f, "kb")
    with open(dump, "rb") as fh:
        blocks = list(paths_blocks(fh, "kb", block_size=3000))
    for block, first in blocks:
        plain, rev, others = block_keys(block, first)
        ak, rk = KeyRuns(str(tmp_path), "a"), KeyRuns(str(tmp_path), "r")
        complex_: dict = {}
        pload.collect_keys(block_items(block, first), ak, rk, complex_, 10**9, number=NUMBER, seq=0)
        ak2, rk2 = KeyRuns(str(tmp_path), "a2"), KeyRuns(str(tmp_path), "r2")
        rk2.keys.extend(rev)
        complex2: dict = {}
        pload.collect_keys(others, ak2, rk2, complex2, 10**9, number=NUMBER, seq=0)
        assert sorted(k[:-5] for k in ak.keys) == sorted(plain + [k[:-5] for k in ak2.keys])
        assert sorted(rk.keys) == sorted(rk2.keys)
        assert {k: v[:4] for k, v in complex_.items()} == {k: v[:4] for k, v in complex2.items()}
    bad = [b"\x03\xc1p\xc1q\xc1r", b"\x03\xc1p\xc2$x\xc1r"]
    data = b"".join(struct.pack("<I", len(r)) + r for r in bad)
    with pytest.raises(DecodeError, match="record 2: a symbol's text may not start"):
        block_keys(data)
    assert len(next(paths_blocks(__import__("io").BytesIO(zlib.compress(data))))[0]) == len(data)


_SYMS = [b"a", b"P12", b"42", b"-1.5", b"True", b"$x", b'"s t"', b'"a\\tb"', b'"', b'"x', b"\xc3\xa9t\xc3\xa9", b"\xff",
         b"x" * 63, b"(", b"\x00"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_SYMS), min_size=1, max_size=17), min_size=1, max_size=8))
def test_block_keys_check_records_as_decode_does(records):
    """The validating regex of flat records accepts exactly what the decoder does, record by record."""
    import struct

    from mettadb.encoding import check_path
    from mettadb.interchange import block_items, block_keys

    paths = [bytes((len(r),)) + b"".join(bytes((0xC0 | len(t),)) + t for t in r) for r in records]
    block = b"".join(struct.pack("<I", len(p)) + p for p in paths)
    bad = None
    for i, p in enumerate(paths, 1):
        try:
            check_path(p)
        except DecodeError:
            bad = i
            break
    if bad is not None:
        with pytest.raises(DecodeError, match=f"record {bad}:"):
            block_keys(block)
        return
    plain, rev, others = block_keys(block)
    items = list(block_items(block))
    assert sorted(plain + [p for p, _, _ in others]) == sorted(p for p, _, _ in items)
    expected_rev = sorted(t[0] + t[1] + b"".join(t[:1:-1]) for _, _, t in items if t is not None)
    assert sorted(rev + [t[0] + t[1] + b"".join(t[:1:-1]) for _, _, t in others if t is not None]) == expected_rev


def test_a_worker_that_dies_fails_the_load_and_changes_nothing(tmp_path, tiny_chunks, monkeypatch):
    import os

    import mettadb

    parent = os.getpid()
    real_run = pload._Reader.run

    def run(self, task, akeys, rkeys, budget):
        if os.getpid() != parent:
            os._exit(3)  # killed mid-range, as by the OOM killer
        return real_run(self, task, akeys, rkeys, budget)

    monkeypatch.setattr(pload._Reader, "run", run)
    f = write_mixed(tmp_path / "kb.metta", 3000)
    with mettadb.open(tmp_path / "s") as sp:
        sp.add("(before)")
        with pytest.raises(mettadb.MettaDBError, match="a load worker died \\(exit code 3\\)"):
            sp.load(f, bulk=True, jobs=2)
        assert [str(a) for a in sp.atoms()] == ["(before)"] and sp.check() == []
    assert not [p for p in os.listdir(tmp_path / "s") if p.startswith(".load-")]


def _sorted_out(plain: list[bytes], rev: list[bytes], others: list) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Keys as a bulk load files them: plain and reverse keys, and the paths kept aside (variables, long)."""
    ak, rk, aside = list(plain), list(rev), []
    for path, names, tokens in others:
        if names is None and len(path) <= 494:
            ak.append(path)
            if tokens is not None:
                rk.append(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]))
        else:
            aside.append(path)
    return sorted(ak), sorted(rk), aside


NESTED = ["(Evaluation (Predicate likes) (List P2 P8331))", "(e (a b) (c d e) f)", "(e (a b))", "(e (a (b c)) d)",
          "(e (a $x) b)", "(e (f) g)", "(e (a b c d) g)", '(e ("s" t) u)', "(e a b)", "(e a)", "(e a b c)",
          "(e 1.5 (a b))", f"(e ({'y' * 100} {'z' * 100}) (a b))"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(atoms(6), st.sampled_from(NESTED).map(lambda t: next(iter(parse(t))))),
                max_size=40))
def test_block_keys_file_any_atoms_as_block_items_do(atom_list):
    """The one-findall path of `block_keys` (flat and nested shapes) agrees with the record-by-record walk."""
    import struct

    from mettadb.encoding import encode
    from mettadb.interchange import block_items, block_keys

    paths = [encode(a) for a in atom_list]
    block = b"".join(struct.pack("<I", len(p)) + p for p in paths)
    items = list(block_items(block))
    assert _sorted_out(*block_keys(block)) == _sorted_out([], [], items)


def test_a_truncated_dump_read_in_parallel_names_its_record(tmp_path, monkeypatch):
    import struct
    import zlib

    monkeypatch.setattr(pload, "MIN_CHUNK", 2048)
    monkeypatch.setattr(pload, "PATHS_BLOCK", 4096)
    recs = [b"\x03\xc1p" + bytes((0xC0 | len(s),)) + s + b"\xc1r" for s in (f"x{i}".encode() for i in range(5000))]
    dump = tmp_path / "cut.paths"
    dump.write_bytes(zlib.compress(b"".join(struct.pack("<I", len(r)) + r for r in recs)[:-3]))
    akeys, rkeys = KeyRuns(str(tmp_path), "atoms"), KeyRuns(str(tmp_path), "rev")
    with pytest.raises(DecodeError, match="truncated record 5000"):
        pload.collect([str(dump)], str(tmp_path), akeys, rkeys, {}, fmt="paths", jobs=2, number=NUMBER)


def test_unnumbered_paths_blocks_cut_where_numbered_ones_do():
    import io
    import struct
    import zlib

    from mettadb.interchange import paths_blocks

    recs = [bytes((3, 0xC1, 0x70, 0xC0 | (n % 60 + 1))) + b"x" * (n % 60 + 1) + b"\xc1r" for n in range(3000)]
    recs[1234] = b"\x03\xc1p\xc1q\xff" + b"z" * 300  # longer than 255: walked on its own
    data = zlib.compress(b"".join(struct.pack("<I", len(r)) + r for r in recs))
    numbered = list(paths_blocks(io.BytesIO(data), block_size=2000))
    unnumbered = list(paths_blocks(io.BytesIO(data), block_size=2000, numbered=False))
    assert [b for b, _ in numbered] == [b for b, _ in unnumbered] and len(numbered) > 20
    assert {f for _, f in unnumbered} == {0}


def test_tapered_paths_blocks_shrink_toward_the_end_and_cover_the_same_records(tmp_path):
    import struct
    import zlib

    from mettadb.interchange import paths_blocks

    rnd = random.Random(4)
    recs = [bytes((3, 0xC1, 0x70, 0xC0 | 8)) + b"%08d" % rnd.randrange(10**8) + b"\xc1r" for _ in range(60_000)]
    dump = tmp_path / "d.paths"
    dump.write_bytes(zlib.compress(b"".join(struct.pack("<I", len(r)) + r for r in recs)))
    with open(dump, "rb") as f:
        plain = list(paths_blocks(f, block_size=64 << 10, numbered=False))
    with open(dump, "rb") as f:
        tapered = list(paths_blocks(f, block_size=64 << 10, numbered=False, taper=os.path.getsize(dump)))
    assert b"".join(b for b, _ in tapered) == b"".join(b for b, _ in plain)
    sizes = [len(b) for b, _ in tapered]
    assert max(sizes) >= 60_000 and len(tapered) > len(plain)
    assert max(sizes[-4:]) < 40_000 and min(sizes[:-1]) >= (64 << 10) // 16  # the last ones small, none tiny


@pytest.mark.parametrize("piece", [64, 300, 1 << 20])
def test_block_keys_cut_into_pieces_file_every_record(monkeypatch, piece):
    import struct

    import mettadb.interchange
    from mettadb.encoding import encode
    from mettadb.interchange import block_items, block_keys

    monkeypatch.setattr(mettadb.interchange, "_PIECE", piece)
    texts = [f"(p a{i} b)" for i in range(300)] + NESTED[:4] + ["(q x y z)", "(r s)", "(e $x y)"] * 20
    random.Random(5).shuffle(texts)
    paths = [encode(next(iter(parse(t)))) for t in texts]
    block = b"".join(struct.pack("<I", len(p)) + p for p in paths)
    assert _sorted_out(*block_keys(block)) == _sorted_out([], [], list(block_items(block)))


def test_block_keys_of_a_big_block_hold_little_beside_the_keys():
    """`findall` makes a tuple of 18 groups per record: over a whole 4 MiB block that was ~90 MB at once."""
    import struct
    import tracemalloc

    from mettadb.interchange import block_keys

    recs = [b"\x03\xc6parent" + bytes((0xC0 | len(a),)) + a + bytes((0xC0 | len(b),)) + b
            for a, b in ((f"P{i}".encode(), f"P{i * 7}".encode()) for i in range(60_000))]
    block = b"".join(struct.pack("<I", len(r)) + r for r in recs)
    block_keys(b"")
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        keys = block_keys(block)
        kept, peak = (m - base for m in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert len(keys[0]) == len(keys[1]) == 60_000
    assert peak < 1.5 * kept, f"peak {peak >> 20} MB for {kept >> 20} MB of keys"


def test_tasks_still_queued_when_the_input_is_read_are_taken_back_by_the_loader(tmp_path, monkeypatch):
    """A worker slow on its task does not hold up the tasks queued behind it: the loader takes them."""
    monkeypatch.setattr(pload, "MIN_CHUNK", 2048)
    monkeypatch.setattr(pload, "PATHS_BLOCK", 4096)
    dump = paths_dump(tmp_path, write_mixed(tmp_path / "kb.metta", 3000), "kb")
    log = tmp_path / "ran.log"
    parent = os.getpid()
    real = pload._Reader.run

    def run(self, task, *args):
        if os.getpid() != parent:
            time.sleep(1.0)  # the worker's first task outlasts everything the loader does
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {task[0]}\n")
        return real(self, task, *args)

    monkeypatch.setattr(pload._Reader, "run", run)

    def collected(name, jobs):
        rep, suffixed, rev, complex_ = _collect_dump(tmp_path / name, dump, jobs)
        return rep, (sorted(k[:-5] for k in suffixed), rev, input_order(suffixed, complex_))

    par = collected("par", 2)
    ran = [line.split() for line in log.read_text().splitlines()]
    by_worker = [i for pid, i in ran if int(pid) != parent]
    assert par[0].workers == 1 and par[0].chunks == len(ran) > 10
    assert len(by_worker) == 1 and sorted(int(i) for _, i in ran) == list(range(len(ran)))
    assert par[1] == collected("seq", 1)[1]
