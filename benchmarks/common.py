"""Helpers shared by the benchmarks: generated data, the hyperon virtualenvs, child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

__all__ = ["DATA", "family_file", "hyperon_python", "ratio", "run_child"]

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

from generate import write_family  # noqa: E402


def family_file(facts: int) -> Path:
    """The generated family knowledge base of about `facts` facts (cached)."""
    DATA.mkdir(exist_ok=True)
    p = DATA / f"family-{facts}.metta"
    if not p.exists():
        tmp = p.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            write_family(f, facts)
        tmp.rename(p)
    return p


def hyperon_python(version: str) -> str:
    """A Python with `hyperon==version`, in a virtualenv of its own under benchmarks/."""
    env = HERE / f".venv-hyperon-{version}"
    py = env / "bin" / "python"
    if not py.exists():
        venv.create(env, with_pip=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", f"hyperon=={version}"], check=True)
    return str(py)


_CHILD_TAIL = """
import json as _json, resource as _r
def _mem():
    out = {}
    for line in open('/proc/self/status'):
        k, _, v = line.partition(':')
        if k in ('VmHWM', 'RssAnon', 'VmRSS'):
            out[k] = int(v.split()[0]) / 1024
    return out
print('@@RESULT@@' + _json.dumps({**RESULT, **_mem()}))
"""


def run_child(python: str, code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 3600,
              cwd: str | None = None) -> dict:
    """Run `code` (which must set a dict RESULT) in a fresh process; returns RESULT plus memory in MB.
    (`python -c` puts its working directory first on sys.path: a child that must import another
    checkout's mettadb runs elsewhere, `cwd`.)"""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(HERE.parent) + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    proc = subprocess.run([python, "-c", code + _CHILD_TAIL, *args], capture_output=True, text=True, env=e,
                          timeout=timeout, cwd=cwd)
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT@@"):
            return json.loads(line[len("@@RESULT@@"):])
    raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def ratio(a: float, b: float) -> str:
    """`a/b` formatted, or n/a."""
    return f"{a / b:.2f}x" if b else "n/a"
