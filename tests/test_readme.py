"""The README's examples, run as a user would run them, with their printed comments asserted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block_after(marker: str) -> str:
    start = README.index(marker)
    m = re.compile(r"```python\n(.*?)```", re.S).search(README, start)
    assert m is not None
    return m.group(1)


def test_the_library_example_prints_its_comments_and_can_run_again(tmp_path):
    code = _block_after("**As a library.**")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    expected = [
        "15 1", "Bob", "Liz", "['(Bob Jim)', '(Tom Ann)', '(Tom Pat)']", "3", "(parent Tom $x)", "[S('Bob')]",
        "[[Integer(42)]]",
        "0 True", "16 16", "[Bob, Liz]",
    ]
    for run in (1, 2):
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        lines = out.stdout.splitlines()
        assert lines == expected, (run, out.stdout)


def _tour_commands() -> list[str]:
    """Every `mettadb ...` line of the tour's shell blocks, comments stripped."""
    start, end = README.index("## A five-minute tour"), README.index("**As a library.**")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README[start:end], re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line.startswith("mettadb "):
                lines.append(line)
    return lines


def test_the_tour_runs_as_written_in_a_fresh_directory(tmp_path):
    """Each tour command succeeds on the shipped examples, except those needing what a checkout lacks."""
    import shlex

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    commands = _tour_commands()
    assert len(commands) >= 15, commands
    exe = Path(sys.executable).with_name("mettadb")   # the console script `pip install -e .` put beside python
    assert exe.exists(), exe
    ran = 0
    for line in commands:
        argv = shlex.split(line)
        if argv[1] == "repl" or "--cluster" in argv:   # interactive / needs a Dask scheduler (tests/test_dask.py)
            continue
        if argv[1] == "load" and "--format" in argv:
            continue
        out = subprocess.run([str(exe), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (line, out.stdout[-2000:], out.stderr[-2000:])
        assert "Traceback" not in out.stderr, line
        ran += 1
        if argv[1] == "batch":
            assert out.stdout.splitlines() == ["[Liz]", "[Ann]", "[Pat]", "[Liz]"], out.stdout
        if argv[1] == "match" and argv[2] == "(parent Tom $x)" and len(argv) == 4:
            assert out.stdout.splitlines() == ["Bob", "Liz"], out.stdout
    assert ran >= 12
    assert (tmp_path / "all.metta").exists() and (tmp_path / "kb.paths").exists()
