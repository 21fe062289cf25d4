"""Evaluation limits: a runaway recursion stops by a default memory limit, naming FILE:LINE of its `!`."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from helpers import mettadb_cmd

import mettadb
from mettadb.interp.driver import DEFAULT_MAX_MEMORY, resident_bytes

#: a runaway recursion that keeps a frame per level (`+` waits for its argument); a runaway tail call,
#: `(= (loop $x) (loop $x))`, keeps almost nothing per level and stops at the stack depth limit
LOOP = "(= (loop $x) (+ 1 (loop $x)))\n\n!(loop 1)\n"


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


def test_a_runaway_tail_call_stops_at_the_stack_depth_limit(space):
    with pytest.raises(mettadb.LimitError, match=r"^prog\.metta:2: evaluation exceeded the stack depth limit of 20000 \(in !\(loop 1\)\)$"):
        space.run("(= (loop $x) (loop $x))\n!(loop 1)", source="prog.metta", max_depth=20_000)


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


#: a loop written in minimal MeTTa: it runs inside one step of the driver, which never comes back
MINIMAL_LOOP = "(= (loop $n) (function (chain (eval (loop $n)) $x (return $x))))\n!(eval (loop 1))\n"


def test_the_cli_memory_limit_stops_a_loop_inside_one_step(run, write):
    prog = write("loop.metta", MINIMAL_LOOP)
    r = run("run", "--max-memory", "48", str(prog))
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: {prog}:2: evaluation exceeded the memory limit of 48 MB at stack depth ")
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


# (a tick landing in a callback of the garbage collector must not raise there: Python prints such an
# error with its traceback and drops it)
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_the_time_limit_stops_a_loop_inside_one_step(space):
    with pytest.raises(mettadb.LimitError, match=r"^s\.metta:2: evaluation exceeded the time limit of 0\.5 s"):
        space.run(MINIMAL_LOOP, source="s.metta", timeout=0.5, max_memory=0)


def test_the_memory_limit_stops_a_deep_argument(tmp_path):
    # 100,000 levels of `(+ 1 ...)`: the evaluation's stack grows past 16 MB (a process of its own:
    # the growth of the test's process depends on what earlier tests freed)
    prog = tmp_path / "deep.metta"
    prog.write_text("!" + "(+ 1 " * 100_000 + "0" + ")" * 100_000 + "\n", encoding="utf-8")
    out = subprocess.run(mettadb_cmd("--db", str(tmp_path / "db"), "run", "--max-memory", "16", str(prog)),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert out.stderr.startswith(f"Error: {prog}:1: evaluation exceeded the memory limit of 16 MB at stack depth ")
    assert out.stderr.count("\n") == 1


def test_outside_the_main_thread_the_driver_looks_at_the_limits(space):
    # (no timer signal there: every 4,096 steps, as before)
    got: list[BaseException] = []

    def evaluate() -> None:
        try:
            space.run(LOOP, source="prog.metta", max_memory=48 << 20)
        except BaseException as e:
            got.append(e)

    t = threading.Thread(target=evaluate)
    t.start()
    t.join(120)
    assert len(got) == 1 and isinstance(got[0], mettadb.LimitError), got
    assert str(got[0]).startswith("prog.metta:3: evaluation exceeded the memory limit of 48 MB")
