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
