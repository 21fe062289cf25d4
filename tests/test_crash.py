"""Crash safety: SIGKILL at random moments leaves the old atoms or all the new ones; fast loads land alike."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time

import pytest
from click.testing import CliRunner
from helpers import contents, mettadb_cmd
from mettadb.cli.main import cli

import mettadb


def _kill_n_times(tmp_path, template, argv, after_len, seed, longest, kills=20):
    """Start the command on a fresh copy of the template space `kills` times, SIGKILL it at a random moment,
    and check that the space is sound and holds exactly the old atoms or exactly all the new ones."""
    rng = random.Random(seed)
    before = contents(template)
    # kill within the time an uninterrupted run takes here (so most kills land mid-flight,
    # however fast this machine is today)
    probe = tmp_path / "probe"
    shutil.copytree(template, probe)
    t0 = time.perf_counter()
    subprocess.run(mettadb_cmd("--db", str(probe), *argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    longest = min(longest, max(0.1, 0.9 * (time.perf_counter() - t0)))
    shutil.rmtree(probe)
    mid = 0
    for k in range(kills):
        space = tmp_path / f"s{k}"
        shutil.copytree(template, space)
        proc = subprocess.Popen(mettadb_cmd("--db", str(space), *argv), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, longest))
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with mettadb.open(space, readonly=True) as sp:
            assert sp.check() == []
            n = len(sp)
        now = contents(space)
        assert now == before or n == after_len, (k, n)
        if now == before and not finished:
            mid += 1
        shutil.rmtree(space)
    return mid


@pytest.mark.parametrize(("mode", "kills"), [
    # a killed single-transaction load is also covered by test_load.py::test_killed_load_leaves_the_space_as_it_was
    pytest.param("--no-bulk", 20, marks=pytest.mark.slow),
    pytest.param("--bulk", 20, marks=pytest.mark.slow),
    ("--bulk", 5),
])
def test_sigkill_of_load_at_random_moments(tmp_path, monkeypatch, mode, kills):
    monkeypatch.setenv("METTADB_BULK_RUN_KEYS", "20000")  # several runs and staged transactions
    big = tmp_path / "big.metta"
    big.write_text("".join(f"(fact P{i} P{i * 7 % 1000} {i})\n" for i in range(150_000)))
    template = tmp_path / "template"
    with mettadb.open(template) as sp:
        sp.add_all(["(before 1)", "(before 2)"])
    mid = _kill_n_times(tmp_path, template, ["load", mode, str(big)], 150_002, seed=20, longest=2.0, kills=kills)
    assert mid >= kills // 4  # most kills really hit a load in flight


def test_sigkill_of_run_with_writes_at_20_moments(tmp_path):
    script = tmp_path / "w.metta"
    script.write_text("".join(f"!(add-atom &self (written {i}))\n" for i in range(3000)) + "(plain fact)\n")
    template = tmp_path / "template"
    with mettadb.open(template) as sp:
        sp.add("(before)")
    mid = _kill_n_times(tmp_path, template, ["run", str(script)], 3002, seed=21, longest=1.5)
    assert mid >= 5


def test_fast_load_lands_like_a_durable_one(tmp_path):
    f = tmp_path / "f.metta"
    f.write_text("".join(f"(n {i})\n" for i in range(1000)))
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s"), "load", "--fast", str(f)])
    assert r.exit_code == 0
    with mettadb.open(tmp_path / "s", readonly=True) as sp:
        assert len(sp) == 1000 and sp.check() == []
