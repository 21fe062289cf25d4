"""The package's type hints are complete: mypy --strict passes, with no file switching error codes off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_passes_on_the_package():
    pytest.importorskip("mypy")
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "mettadb", "cli", "migrations"],
                         cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]


def test_no_file_switches_mypy_off():
    offenders = [str(p.relative_to(ROOT)) for folder in ("mettadb", "cli", "migrations")
                 for p in (ROOT / folder).rglob("*.py")
                 if "# mypy:" in p.read_text(encoding="utf-8") or "# type: ignore\n" in p.read_text(encoding="utf-8")]
    assert offenders == []
