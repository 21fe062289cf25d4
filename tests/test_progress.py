"""Progress lines: shown on a terminal, erased at the end, absent otherwise."""

from __future__ import annotations

import io
import time

from mettadb.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_and_erases_on_a_terminal():
    out = Tty()
    with Progress("loading", 1000, stream=out, bytes_done=True) as bar:
        time.sleep(0.11)
        bar.update(500, 42)
        assert "loading [" in out.getvalue() and "50%" in out.getvalue()
    assert out.getvalue().endswith("\r")


def test_progress_is_silent_when_not_a_terminal():
    out = io.StringIO()
    with Progress("export", 10, stream=out) as bar:
        time.sleep(0.11)
        bar.update(5, 5)
    assert out.getvalue() == ""


def test_stats_plot(run, write, tmp_path):
    run("load", str(write("f.metta", "(a 1)\n(a 2)\n(b 1)\n")))
    png = tmp_path / "heads.png"
    r = run("stats", "--plot", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "distinct        3" in r.stdout
