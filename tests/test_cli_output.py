"""Counts print one way everywhere (`1,234 atoms`, `1 atom`); heads are `name/arguments`; dump reports what it wrote."""

from __future__ import annotations

import json


def test_counts_have_thousands_separators_and_singulars(run, write):
    r = run("load", str(write("one.metta", "(a 1)\n")))
    assert r.stderr.splitlines()[-1].startswith("loaded 1 atom: 1 added, 0 already present in ")
    r = run("load", str(write("many.metta", "".join(f"(n {i})\n" for i in range(1234)))))
    assert r.stderr.startswith("loaded 1,234 atoms: 1,234 added, 0 already present in ")
    r = run("load", str(write("bangs.metta", "!(a)\n!(b)\n")))
    assert r.stderr.startswith("note: 2 `!` expressions were not evaluated")
    assert run("export", "-").stderr == "exported 1,235 atoms\n"
    assert run("check").stdout.startswith("ok: 1,235 distinct atoms, ")
    assert "atoms           1,235\n" in run("stats").stdout


def test_dump_prints_a_summary_like_export(run, write, tmp_path):
    run("load", str(write("f.metta", "(a 1)\n(a 2)\n")))
    out = tmp_path / "all.metta"
    r = run("dump", "-o", str(out))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", f"dumped 2 atoms to {out}\n")
    assert sorted(out.read_text().splitlines()) == ["(a 1)", "(a 2)"]
    r = run("dump")
    assert sorted(r.stdout.splitlines()) == ["(a 1)", "(a 2)"] and r.stderr == "dumped 2 atoms\n"


def test_stats_names_heads_by_their_number_of_arguments(run, write, tmp_path, monkeypatch):
    run("load", str(write("f.metta", "(parent Tom Bob)\n(parent Bob Ann)\n(age Tom)\nalone\n")))
    r = run("stats")
    lines = r.stdout.splitlines()
    assert "head/arguments                     distinct        atoms" in lines
    assert "parent/2                                  2            2" in lines
    assert "age/1                                     1            1" in lines
    st = json.loads(run("stats", "--json").stdout)
    parent = next(h for h in st["heads"] if h["head"] == "parent")
    assert (parent["arity"], parent["args"]) == (3, 2)

    import matplotlib.axes

    drawn = []
    monkeypatch.setattr(matplotlib.axes.Axes, "barh", lambda self, labels, values, **k: drawn.extend(labels))
    r = run("stats", "--plot", str(tmp_path / "heads.png"))
    assert r.exit_code == 0, r.stderr
    assert "parent/2" in drawn and "age/1" in drawn and "parent/3" not in drawn
