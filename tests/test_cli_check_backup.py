"""`check` shows progress on a terminal; `backup` writes an owner-only copy."""

from __future__ import annotations

import os
import pty
import subprocess
import sys


def test_check_shows_progress_on_a_terminal(run, write, space_path):
    run("load", str(write("big.metta", "".join(f"(n {i})\n" for i in range(70_000)))))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "from mettadb.cli.main import main; main()",
                             "--db", str(space_path), "check"], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.returncode == 0
    assert out.decode() == "ok: 70,000 distinct atoms, indexes and statistics agree, format version 4\n"
    assert b"checking [" in seen and b"/70,000" in seen
    r = run("check")  # not a terminal: no progress line
    assert r.stderr == ""


def test_backup_is_owner_only(run, write, tmp_path):
    run("--mode", "644", "load", str(write("f.metta", "(a 1)\n")))
    dest = tmp_path / "copy"
    r = run("backup", str(dest))
    assert (r.exit_code, r.stderr) == (0, f"copied generation 1 to {dest}\n")
    assert oct(os.stat(dest / "data.mdb").st_mode & 0o777) == "0o600"
    assert oct(os.stat(dest).st_mode & 0o777) == "0o700"
    r = run("backup", str(dest))
    assert (r.exit_code, r.stderr) == (1, f"Error: {dest} already holds a space\n")


def test_a_fresh_backup_reads_like_any_space(run, write, tmp_path):
    """A backup has no lock.mdb yet; reading it is no reason to say it is not writable."""
    run("load", str(write("f.metta", "(a 1)\n")))
    dest = tmp_path / "copy"
    assert run("backup", str(dest)).exit_code == 0
    for args in (("stats",), ("match", "(a $x)", "$x"), ("eval", "(+ 1 1)")):
        r = run("--db", str(dest), *args)
        assert (r.exit_code, r.stderr) == (0, ""), args
    assert run("--db", str(dest), "match", "(a $x)", "$x").stdout == "1\n"
