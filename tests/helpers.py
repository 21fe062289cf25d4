"""Helpers shared by test modules: the fixture spaces, a space's contents, the CLI as a subprocess."""

from __future__ import annotations

import sys
from pathlib import Path

import mettadb

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_ATOMS = sorted(["(parent Tom Bob)", "(parent Bob Ann)", "(parent Bob Ann)", "(= (f $x) (g $x))",
                        '(name Tom "Tom S")', "(age Tom 42)"])


def contents(path):
    """The (atom text, count) pairs of the space at `path`, sorted."""
    with mettadb.open(path, readonly=True) as sp:
        return sorted((str(a), n) for a, n in sp.items())


def mettadb_cmd(*args: str) -> list[str]:
    """The argv that runs the real CLI in a fresh interpreter."""
    return [sys.executable, "-c", "from mettadb.cli.main import main; main()", *args]


def spy_builds(monkeypatch) -> list[tuple[int, int, int, int]]:
    """Record, at each bulk build, the atom and reverse keys left in memory and those spilled to runs."""
    import mettadb.loading

    seen: list[tuple[int, int, int, int]] = []
    real = mettadb.loading.SlotBuilder.build

    def build(self, akeys, rkeys, complex_):
        seen.append((len(akeys.keys), len(rkeys.keys), akeys.spilled, rkeys.spilled))
        return real(self, akeys, rkeys, complex_)

    monkeypatch.setattr(mettadb.loading.SlotBuilder, "build", build)
    return seen


def without_root_powers() -> list[str] | None:
    """A prefix that runs a command as root without the power to ignore file permissions (None where
    `setpriv` cannot do that)."""
    import shutil
    import subprocess

    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    if shutil.which("setpriv") is None:
        return None
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None
