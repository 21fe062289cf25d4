"""Parallel read-only batches: local worker processes and a real Dask LocalCluster."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner
from mettadb.cli.main import cli

import mettadb
from mettadb.parallel import evaluate_many

RULES = """
(= (get_parents $x) (match &self (parent $p $x) $p))
(= (get_grand $x) (match &self (, (parent $p $x) (parent $g $p)) $g))
"""


@pytest.fixture
def family(tmp_path):
    path = tmp_path / "fam"
    facts = "".join(f"(person P{i})\n(parent P{i // 2} P{i})\n" for i in range(1, 400))
    with mettadb.open(path) as sp:
        sp.run(facts + RULES)
    return path


def queries():
    return [f"(get_grand P{i})" for i in range(1, 400)] + ["(add-atom &self (intruder))", "(+ 1 2)"]


def test_workers_agree_with_in_process(family):
    with mettadb.open(family, readonly=True) as sp:
        local = evaluate_many(sp, queries(), jobs=0)
        pooled = evaluate_many(sp, queries(), jobs=2, chunk_size=37)
        auto = evaluate_many(sp, queries())
    assert pooled.lines == local.lines == auto.lines
    assert pooled.workers == 2 and local.workers == 0
    assert local.lines[3] == "[P1]" and local.lines[-1] == "[3]"
    assert "cannot write to the space" in local.lines[-2]
    assert pooled.generation == local.generation
    assert all(s < 2.0 for s in pooled.worker_startup)
    with mettadb.open(family, readonly=True) as sp:
        assert "(intruder)" not in sp


def test_a_batch_query_cannot_import_into_self(family, tmp_path, monkeypatch):
    """Each batch query is answered on its own: `import! &self` (which would change what the
    worker's later queries see) is refused like a write, in the query's place."""
    (tmp_path / "lib.metta").write_text("(= (double $x) (* 2 $x))\n")
    monkeypatch.chdir(tmp_path)
    with mettadb.open(family, readonly=True) as sp:
        got = evaluate_many(sp, ["(import! &self lib)", "(double 2)", "(import! &self top)", "(+ 1 2)"], jobs=0)
    assert "cannot write to the space" in got.lines[0]  # (a worker loads no module either)
    assert "cannot import into the space" in got.lines[2]
    assert got.lines[1::2] == ["[(double 2)]", "[3]"]


def test_auto_keeps_small_batches_in_process(family):
    with mettadb.open(family, readonly=True) as sp:
        r = evaluate_many(sp, ["(+ 1 1)", "(get_parents P5)"])
    assert r.workers == 0 and r.lines == ["[2]", "[P2]"]


def test_a_dying_worker_is_retried_once(family, tmp_path, monkeypatch):
    monkeypatch.setenv("METTADB_FAULT_CRASH_ONCE", str(tmp_path / "crashed"))
    with mettadb.open(family, readonly=True) as sp:
        r = evaluate_many(sp, queries()[:60], jobs=2, chunk_size=10)
        local = evaluate_many(sp, queries()[:60], jobs=0)
    assert (tmp_path / "crashed").exists()
    assert r.lines == local.lines
    assert any("worker process died" in n and "run again" in n for n in r.notes)


def test_batch_cli(family, tmp_path):
    qf = tmp_path / "q.metta"
    qf.write_text("!(get_parents P6)\n!(get_grand P6)\n!(+ 2 2)\n")
    r = CliRunner().invoke(cli, ["--db", str(family), "batch", str(qf), "--jobs", "2"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "[P3]\n[P1]\n[4]\n"
    assert r.stderr.startswith("batch: 3 queries, 2 workers, version ")


def test_dask_local_cluster_matches_local_pool(family, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with mettadb.open(family, readonly=True) as sp:
            on_dask = evaluate_many(sp, queries(), client=client)
            local = evaluate_many(sp, queries(), jobs=0)
            assert on_dask.lines == local.lines and on_dask.workers == 2
            # a replica at another generation is refused, never answered from
            stale = tmp_path / "stale"
            shutil.copytree(family, stale)
            with mettadb.open(stale) as other:
                other.add("(newer fact)")
            with pytest.raises(Exception, match="refused"):
                evaluate_many(sp, queries()[:5], client=client, replica_path=str(stale))
    assert os.path.exists(family)


def test_pool_from_a_script_on_stdin(family):
    import subprocess
    import sys

    code = ("import mettadb, sys\n"
            "with mettadb.open(sys.argv[1], readonly=True) as sp:\n"
            "    r = sp.evaluate_many(['(get_parents P6)'] * 20, jobs=2)\n"
            "print(r.lines[0], r.workers)\n")
    out = subprocess.run([sys.executable, "-", str(family)], input=code, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[P3] 2", out.stderr[-2000:]


def test_one_version_per_batch_when_a_commit_lands_midway(tmp_path):
    import subprocess
    import sys
    import time

    path = tmp_path / "live"
    with mettadb.open(path) as sp:
        sp.add_all(["(item 1)", "(item 2)"])
    committed = []
    go, done_file = tmp_path / "go", tmp_path / "done"
    # a writer started (and imported) before the batch, so its commit lands within milliseconds of the
    # signal, while most chunks are still to run, however fast the workers are
    code = ("import mettadb, os, sys, time; sp = mettadb.open(sys.argv[1])\n"
            "while not os.path.exists(sys.argv[2]): time.sleep(0.002)\n"
            "sp.add('(item 3)'); open(sys.argv[3], 'w').close()")
    writer = subprocess.Popen([sys.executable, "-c", code, str(path), str(go), str(done_file)])

    def commit_once(done, total):
        if not committed:
            go.touch()
            deadline = time.monotonic() + 60
            while not done_file.exists() and time.monotonic() < deadline:
                time.sleep(0.002)
            committed.append(done)

    try:
        with mettadb.open(path, readonly=True) as sp:
            gen0 = sp.generation
            r = evaluate_many(sp, ["(collapse (match &self (item $x) $x))"] * 3000, jobs=1, chunk_size=2,
                              progress=commit_once)
    finally:
        writer.wait(timeout=60)
    assert committed and r.generation == gen0 + 1  # the commit landed while chunks were still running
    assert set(r.lines) == {"[(1 2 3)]"}  # every answer from the newest version, none from the older
    assert r.rounds >= 2  # the chunks answered before the commit were run again


def test_backup_while_a_writer_runs_gives_a_consistent_replica(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "live"
    with mettadb.open(path) as sp:
        sp.add_all(f"(n {i})" for i in range(1000))
    writer = subprocess.Popen([sys.executable, "-c",
                               "import mettadb,sys\nsp=mettadb.open(sys.argv[1])\n"
                               "for i in range(200):\n    sp.add_all([f'(w {i} {j})' for j in range(50)])\n",
                               str(path)])
    try:
        snaps = []
        for k in range(3):
            dest = tmp_path / f"snap{k}"
            r = CliRunner().invoke(cli, ["--db", str(path), "backup", str(dest), *(["--compact"] if k % 2 else [])])
            assert r.exit_code == 0, r.output
            snaps.append(dest)
    finally:
        writer.wait(timeout=120)
    for dest in snaps:
        with mettadb.open(dest, readonly=True) as sp:
            assert sp.check() == []
            written = sum(1 for _ in sp.query("(w $i $j)"))
            assert written % 50 == 0  # whole transactions only
            assert sp.format_version == mettadb.FORMAT_VERSION


def test_a_write_in_a_space_opened_read_only_names_both_causes(family):
    """The refusal does not claim to come from a batch worker where the space was opened read-only."""
    with mettadb.open(family, readonly=True) as sp:
        with pytest.raises(mettadb.ReadOnlyError) as e:
            sp.eval("(add-atom &self (intruder))")
    assert str(e.value) == ("this evaluation cannot write to the space "
                            "(it is read-only here: a batch worker, or a space opened read-only)")
