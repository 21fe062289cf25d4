"""Evaluation limits: a runaway recursion stops by a default memory limit, naming FILE:LINE of its `!`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mettadb
from mettadb.interp.driver import DEFAULT_MAX_MEMORY, resident_bytes

LOOP = "(= (loop $x) (loop $x))\n\n!(loop 1)\n"


def test_runaway_recursion_stops_at_the_memory_limit_naming_the_bang(space):
    with pytest.raises(mettadb.LimitError) as e:
        space.run(LOOP, source="prog.metta", max_memory=48 << 20)
    msg = str(e.value)
    assert msg.startswith("prog.metta:3: evaluation exceeded the memory limit of 48 MB")
    assert msg.endswith("(in !(loop 1))")
    assert list(space.atoms()) == []  # the run rolled back


def test_the_line_is_the_bang_s_own_in_a_longer_script(space):
    text = "(a)\n!(+ 1 2)\n; comment\n(= (loop $x) (loop $x))\n  !(loop 1)\n"
    with pytest.raises(mettadb.LimitError, match=r"^s\.metta:5: evaluation exceeded the step limit of 1000"):
        space.run(text, source="s.metta", max_steps=1000)


def test_the_default_is_memory_aware_and_bounded():
    assert 128 << 20 <= DEFAULT_MAX_MEMORY <= 512 << 20
    assert resident_bytes() > 0


def test_the_cli_stops_a_runaway_recursion_within_the_default_budget(tmp_path):
    """The whole process stays within the default budget plus start-up, and says where it stopped."""
    prog = tmp_path / "prog.metta"
    prog.write_text(LOOP, encoding="utf-8")
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would report pytest's own size
    code = ("import sys\nfrom mettadb.cli.main import main\n"
            "sys.argv[1:] = ['--db', sys.argv[1], 'run', sys.argv[2]]\n"
            "try:\n    main()\n"
            "finally:\n    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
            "    print('peak', hwm.split()[1], file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "db"), str(prog)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith(f"Error: {prog}:3: evaluation exceeded the memory limit of 256 MB"), out.stderr
    assert "Traceback" not in out.stderr
    peak_kb = int(lines[-1].split()[1])
    assert peak_kb * 1024 < DEFAULT_MAX_MEMORY + (200 << 20)


def test_no_limit_when_lifted(space):
    space.add("(= (count $n) (if (== $n 0) 0 (+ 1 (count (- $n 1)))))")
    assert space.eval("(count 2000)", max_memory=0) == [mettadb.Integer(2000)]
