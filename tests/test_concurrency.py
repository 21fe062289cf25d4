"""Concurrent use: loads in two processes, readers during a load see old or new, never a mix."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from helpers import mettadb_cmd

import mettadb


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_two_concurrent_loads_both_land(tmp_path, mode):
    space = tmp_path / "space"
    files = []
    for k in range(2):
        f = tmp_path / f"part{k}.metta"
        f.write_text("".join(f"(p{k} {i})\n" for i in range(20_000)))
        files.append(f)
    mettadb.open(space).close()
    procs = [subprocess.Popen(mettadb_cmd("--db", str(space), "load", mode, str(f)), stderr=subprocess.PIPE)
             for f in files]
    for p in procs:
        assert p.wait() == 0, p.stderr.read() if p.stderr else ""
    with mettadb.open(space, readonly=True) as sp:
        assert len(sp) == 40_000 and sp.check() == []
        assert sum(1 for _ in sp.query("(p0 $x)")) == 20_000


_READER = """
import sys, time, mettadb
seen = set()
with mettadb.open(sys.argv[1], readonly=True) as sp:
    deadline = time.time() + float(sys.argv[2])
    while time.time() < deadline:
        seen.add(sum(1 for _ in sp.query("(n $x)")))
        if 30000 in seen:
            break
print(sorted(seen))
"""


@pytest.mark.parametrize("mode", ["--no-bulk", "--bulk"])
def test_readers_see_old_or_new_never_a_mix(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("METTADB_BULK_RUN_KEYS", "3000")  # a bulk load spills runs and stages several commits
    space = tmp_path / "space"
    with mettadb.open(space) as sp:
        sp.add_all(f"(n {i})" for i in range(1000))
    f = tmp_path / "more.metta"
    f.write_text("".join(f"(n {i})\n" for i in range(1000, 30_000)))
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(space), "30"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert subprocess.run(mettadb_cmd("--db", str(space), "load", mode, str(f))).returncode == 0
    out, _ = reader.communicate(timeout=60)
    seen = eval(out)  # a list of ints printed by our own reader
    assert set(seen) <= {1000, 30_000} and 30_000 in seen
