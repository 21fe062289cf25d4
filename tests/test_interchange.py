"""Export and import: MeTTa text, JSON lines, MORK .paths; round trips."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest

import mettadb
from mettadb.encoding import encode
from mettadb.interchange import read_paths

ATOMS = ['(parent Tom Bob)', '(parent Tom Bob)', '(name Tom "T \\"S\\"")', "(age Tom 42)", "(score Tom 0.5)",
         "(= (f $x) (g $x))", "(" + " ".join(f"w{i}" for i in range(70)) + ")", "(long " + "s" * 80 + ")"]


def filled(path):
    sp = mettadb.open(path)
    sp.add_all(ATOMS)
    return sp


def items(sp):
    return sorted((mettadb.encode(a), n) for a, n in sp.items())


def test_paths_records_are_mork_format(tmp_path):
    with filled(tmp_path / "a") as sp:
        buf = io.BytesIO()
        report = sp.export(buf, "paths")
    raw = zlib.decompress(buf.getvalue())
    records = []
    while raw:
        (n,) = struct.unpack_from("<I", raw)
        records.append(raw[4:4 + n])
        raw = raw[4 + n:]
    assert encode(mettadb.atom("(parent Tom Bob)")) in records
    assert len(records) == len(ATOMS) == report.atoms
    assert report.extended == 2  # the wide expression and the long symbol


@pytest.mark.parametrize("fmt", ["paths", "metta", "jsonl"])
def test_round_trips(tmp_path, fmt):
    with filled(tmp_path / "a") as sp:
        buf = io.BytesIO()
        sp.export(buf, fmt)
        before = items(sp)
    data = buf.getvalue()
    with mettadb.open(tmp_path / "b") as sp2:
        if fmt == "paths":
            sp2.load_paths(io.BytesIO(data), duplicates=True)
            with mettadb.open(tmp_path / "bulk") as sp3:  # the staged path gives the same space
                assert sp3.load_paths(io.BytesIO(data), duplicates=True, bulk=True).mode == "bulk"
                assert items(sp3) == before and sp3.check() == []
                sp3.load_paths(io.BytesIO(data), bulk=True)  # set union: nothing new
                assert items(sp3) == before
        elif fmt == "metta":
            sp2.load(io.BytesIO(data), duplicates=True)
        else:
            text = "".join(json.loads(line) + "\n" for line in data.decode().splitlines())
            sp2.load(io.BytesIO(text.encode()), duplicates=True)
        assert items(sp2) == before
        assert sp2.check() == []


def test_cli_export_and_load_paths(run, write, tmp_path):
    run("load", str(write("f.metta", "\n".join(ATOMS) + "\n")))
    out = tmp_path / "kb.paths"
    r = run("export", "--format", "paths", str(out))
    assert r.exit_code == 0 and "exported 7 atoms" in r.stderr and "MORK cannot read" in r.stderr
    r = run("--db", str(tmp_path / "other"), "load", "--format", "paths", str(out), db=False)
    assert r.exit_code == 0, r.output
    r = run("--db", str(tmp_path / "other"), "match", "(parent $a $b)", "--count", db=False)
    assert r.stdout == "1\n"
    r = run("export", "--format", "jsonl", "-")
    assert json.loads(r.stdout.splitlines()[0]).startswith("(")


def test_corrupt_paths_are_rejected_cleanly(tmp_path):
    with mettadb.open(tmp_path / "c") as sp:
        with pytest.raises(mettadb.DecodeError, match="not a zlib stream"):
            sp.load_paths(io.BytesIO(b"not compressed at all"))
        bad = zlib.compress(struct.pack("<I", 3) + b"\x02\xc1a")
        with pytest.raises(mettadb.DecodeError, match="record 1"):
            sp.load_paths(io.BytesIO(bad))
        trunc = zlib.compress(struct.pack("<I", 30) + b"\x02\xc1a")
        with pytest.raises(mettadb.DecodeError, match="truncated record 1"):
            sp.load_paths(io.BytesIO(trunc))
        with pytest.raises(mettadb.DecodeError, match="truncated record 1"):
            sp.load_paths(io.BytesIO(trunc), bulk=True)
        assert len(sp) == 0 and sp.check() == []


@pytest.mark.parametrize("bulk", [False, True])
def test_a_dump_cut_anywhere_is_an_error_and_loads_nothing(tmp_path, bulk):
    """A half-copied dump whose cut falls between records once loaded what came before (or nothing) and
    said nothing: the compressed stream's missing end marker is what tells."""
    with mettadb.open(tmp_path / "src") as src:
        src.add_all([f"(parent P{i} P{i + 1})" for i in range(200)] + ["(= (gp $x) (parent $x $y))"])
        buf = io.BytesIO()
        src.export(buf, "paths")
    dump = buf.getvalue()
    with mettadb.open(tmp_path / "s") as sp:
        sp.add("(kept 1)")
        for cut in range(1, len(dump)):
            with pytest.raises(mettadb.DecodeError, match="truncated"):
                sp.load_paths(io.BytesIO(dump[:cut]), bulk=bulk)
        assert [str(a) for a in sp.atoms()] == ["(kept 1)"]
        assert sp.load_paths(io.BytesIO(dump), bulk=bulk).added == 201


def test_the_cli_names_a_truncated_dump(tmp_path):
    from click.testing import CliRunner
    from mettadb.cli.main import cli

    with mettadb.open(tmp_path / "src") as src:
        src.add_all(["(a 1)", "(b 2)", "(c 3)"])
        with open(tmp_path / "kb.paths", "wb") as f:
            src.export(f, "paths")
    cut = tmp_path / "cut.paths"
    cut.write_bytes((tmp_path / "kb.paths").read_bytes()[:-3])
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s"), "load", "--format", "paths", str(cut)])
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == (
        f"Error: {cut}: truncated: the compressed stream ends before its end marker (after 3 whole records); "
        "nothing was loaded")


def test_the_cli_reads_a_dot_paths_file_as_a_dump(tmp_path):
    from click.testing import CliRunner
    from mettadb.cli.main import cli

    with mettadb.open(tmp_path / "src") as src:
        src.add_all(["(a 1)", "(b 2)"])
        with open(tmp_path / "kb.paths", "wb") as f:
            src.export(f, "paths")
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s"), "load", str(tmp_path / "kb.paths")])
    assert r.exit_code == 0 and "loaded 2 atoms: 2 added" in r.stderr
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "t"), "load", "--format", "metta", str(tmp_path / "kb.paths")])
    assert r.exit_code == 1 and "invalid UTF-8" in r.stderr  # asked for text: read as text


# ---------------------------------------------------------------- insertion order

_RULES = "(= (f) zz)\n(= (f) aa)\n(= (f) mm)\n(= (g $x) (z $x))\n(= (g 1) (a 1))\n(b c)\n(a c)\n"


@pytest.mark.parametrize("fmt", ["paths", "metta", "jsonl"])
def test_export_writes_insertion_order(tmp_path, fmt):
    """Atoms come out in the order they were added (not key order), copies together."""
    lines = ["(z 1)", "(a 2)", "(m 3)", "(a 2)", "(b $x)", "(a 1)"]
    with mettadb.open(tmp_path / "a") as sp:
        sp.add_all(lines)
        buf = io.BytesIO()
        sp.export(buf, fmt)
    data = buf.getvalue()
    if fmt == "paths":
        got = [str(mettadb.decode(path)) for path, _ in read_paths(io.BytesIO(data))]
        assert got == ["(z 1)", "(a 2)", "(a 2)", "(m 3)", "(b $_0)", "(a 1)"]
    else:
        got = [json.loads(x) if fmt == "jsonl" else x for x in data.decode().splitlines()]
        assert got == ["(z 1)", "(a 2)", "(a 2)", "(m 3)", "(b $x)", "(a 1)"]


def test_export_in_insertion_order_streams_through_sorted_runs(tmp_path, monkeypatch):
    """Past `ORDER_RUN_KEYS` pairs the order is an external sort (runs on disk), still exact."""
    import random

    import mettadb.bulk
    import mettadb.store

    monkeypatch.setattr(mettadb.store, "ORDER_RUN_KEYS", 100)
    spills = []
    real = mettadb.bulk.KeyRuns.spill
    monkeypatch.setattr(mettadb.bulk.KeyRuns, "spill", lambda self: (spills.append(len(self.keys)), real(self))[1])
    lines = [f"(k{i} {i})" for i in range(1000)]
    random.Random(7).shuffle(lines)
    with mettadb.open(tmp_path / "a") as sp:
        sp.add_all(lines)
        buf = io.BytesIO()
        sp.export(buf, "metta")
        assert [str(a) for a in sp.atoms(ordered=True)] == lines
    assert buf.getvalue().decode().splitlines() == lines
    assert max(spills) <= 100 and sum(spills) == 2000  # two reads, each spilled whole


@pytest.mark.parametrize("fmt", ["paths", "metta"])
def test_a_reloaded_export_tries_rules_in_the_original_order(run, write, tmp_path, fmt):
    """Equations of one function, written out of key order, are tried in the same order after an
    export and a load into a fresh space (the order `metta` gives: `[zz, aa, mm]`)."""
    run("load", str(write("rules.metta", _RULES)))
    out = tmp_path / f"kb.{fmt}"
    assert run("export", "--format", fmt, str(out)).exit_code == 0
    other = str(tmp_path / "other")
    load = ["--db", other, "load", "--duplicates"] + (["--format", "paths"] if fmt == "paths" else [])
    assert run(*load, str(out), db=False).exit_code == 0
    script = write("q.metta", "!(f)\n!(g 1)\n!(match &self ($h c) $h)\n")
    want = "[zz, aa, mm]\n[(a 1), (z 1)]\n[b, a]\n"
    assert run("run", str(script)).stdout == want
    assert run("--db", other, "run", str(script), db=False).stdout == want


def test_dump_reloads_in_the_original_order(run, write, tmp_path):
    run("load", str(write("rules.metta", _RULES)))
    dumped = run("dump").stdout
    assert dumped == _RULES
    other = str(tmp_path / "other")
    assert run("--db", other, "load", "--duplicates", "-", input=dumped, db=False).exit_code == 0
    assert run("--db", other, "eval", "(f)", db=False).stdout == run("eval", "(f)").stdout == "[zz, aa, mm]\n"
