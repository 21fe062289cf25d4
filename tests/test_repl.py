"""`mettadb repl` as a user drives it: MeTTa piped into the real CLI's standard input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mettadb.parser import InputLines, is_complete


def _cli(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from mettadb.cli.main import main; main()", "--db", str(db), *args],
                          input=stdin, capture_output=True, text=True, timeout=300)


def _repl(db: Path, text: str) -> str:
    out = _cli(db, "repl", stdin=text)
    assert out.returncode == 0, out.stderr
    assert "Error: internal error" not in out.stdout + out.stderr
    return out.stdout


def _nest(n: int) -> str:
    return "(a " * n + "x" + ")" * n


def test_repl_reads_10000_levels_on_one_line(tmp_path):
    """The completeness check is the scanner's, with no recursion: 10,000 levels, as `run` reads them
    (pyparsing's grammar failed from about 60)."""
    deep = _nest(10_000)
    text = f"(size-atom {deep})\n!(size-atom {deep})\n(deep {deep})\n!(match &self (deep $x) ok)\n!{deep}\n"
    out = _repl(tmp_path / "s", text).splitlines()
    assert out == ["[2]", "[ok]", f"[{deep}]"]
    (tmp_path / "d.metta").write_text(text)
    assert _cli(tmp_path / "r", "run", str(tmp_path / "d.metta")).stdout.splitlines() == out


def test_repl_reads_10000_levels_over_10000_lines(tmp_path):
    """A deep expression pasted one level a line: continued until complete, in linear time."""
    n = 10_000
    text = "!(size-atom\n" + "  (a\n" * n + "x\n" + ")\n" * n + ")\n!(+ 1 2)\n"
    assert _repl(tmp_path / "s", text) == "[2]\n[3]\n"


def test_input_lines_agree_with_is_complete():
    """Line by line, the REPL's reading says what the scanner says of the whole text so far."""
    inputs = ["(parent Tom", "  Bob)", '(a "open', 'still)" b)', "!", "(+ 1 2)", ")", "(a ; (", ")",
              '(a "\\q" (', "(a \x00 (", '(s "x\\"("', ")", "(a", "", "b)", "x y (z", ")"]
    lines = InputLines()
    for line in inputs:
        done = lines.add(line)
        assert done == is_complete(lines.text()), lines.text()
        if done:
            lines = InputLines()
    assert not is_complete("(parent Tom") and not is_complete('(a "open') and not is_complete("!")
    assert is_complete("(parent Tom Bob)") and is_complete(")") and is_complete('(a "\\q" (')
    assert is_complete(_nest(100_000))
    assert not is_complete("(" * 100_000)
