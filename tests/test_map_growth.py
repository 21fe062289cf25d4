"""Map growth: the memory map grows under a writer while readers keep working."""

from __future__ import annotations

import subprocess
import sys

import mettadb


def test_reader_opened_before_the_map_grows(tmp_path):
    space = tmp_path / "space"
    with mettadb.open(space, map_size=1 << 16) as sp:
        sp.add("(first)")
    code = (
        "import sys, time, mettadb\n"
        "sp = mettadb.open(sys.argv[1], readonly=True)\n"
        "print(len(sp), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(len(sp), sum(1 for _ in sp.query('(g $x $y)')), flush=True)\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", code, str(space)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert reader.stdout.readline().strip() == "1"
    with mettadb.open(space) as sp:
        sp.add_all(f"(g {i} {'w' * 100})" for i in range(30_000))
        assert sp.env.info()["map_size"] > 1 << 16
    out, _ = reader.communicate("go\n", timeout=60)
    assert out.split() == ["30001", "30000"]
