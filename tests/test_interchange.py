"""Export and import: MeTTa text, JSON lines, MORK .paths; round trips."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest

import mettadb
from mettadb.encoding import encode

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
