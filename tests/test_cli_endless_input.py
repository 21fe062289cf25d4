"""An endless input (`/dev/zero`, a pipe that never ends) stops at its first NUL byte: `run` as with any
NUL byte (a note, what came before runs), `batch` and `load` with one `Error:` line; never a process that
grows without bound.  Each child runs under a 1 GiB address-space limit, so a regression fails quickly."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

_CLI = [sys.executable, "-c", "from mettadb.cli.main import main; main()"]


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _mettadb(db: Path, *args: str, stdin: object = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_CLI, "--db", str(db), *args], stdin=stdin, capture_output=True, text=True,
                          timeout=60, preexec_fn=_limited)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_run_and_batch_of_dev_zero_stop_at_once(tmp_path):
    db = tmp_path / "kb.db"
    r = _mettadb(db, "run", "/dev/zero")
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "", "note: /dev/zero:1:1: NUL byte: the rest of the script is not read (as hyperon does not read it)\n"
               f"note: created a new space at {db}\n")
    for args in (["batch", "/dev/zero"], ["load", "/dev/zero"]):
        r = _mettadb(db, *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", "Error: /dev/zero:1:1: NUL byte\n"), args


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_pipe_runs_what_came_before_its_nul_byte(tmp_path):
    db = tmp_path / "kb.db"
    feed = subprocess.Popen(["sh", "-c", "printf '!(+ 1 1)\\n(a b)\\n'; cat /dev/zero"], stdout=subprocess.PIPE)
    try:
        r = _mettadb(db, "run", "-", stdin=feed.stdout)
    finally:
        feed.kill()
        feed.wait()
    assert (r.returncode, r.stdout) == (0, "[2]\n"), r.stderr
    assert r.stderr.startswith("note: <stdin>:3:1: NUL byte: the rest of the script is not read")


def test_a_regular_file_is_read_whole_as_metta_reads_it(tmp_path):
    """Invalid UTF-8 after a NUL byte is still an error in a file, as in hyperon's `metta` (it decodes the
    whole file first)."""
    script = tmp_path / "s.metta"
    script.write_bytes(b"!(+ 1 1)\n\0\xff\n")
    r = _mettadb(tmp_path / "kb.db", "run", str(script))
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"Error: {script}:2:2: invalid UTF-8 byte 0xff\n")
