"""The interactive session behind `mettadb repl`."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

from .errors import MettaDBError, ParseError
from .interp import format_results
from .parser import InputLines, parse_script
from .runner import ScriptItems
from .space import Space

__all__ = ["Repl"]


class Repl:
    """Reads MeTTa from a terminal (or any stream), one complete input at a time."""

    def __init__(self, space: Space, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.space = space
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interp = space.interpreter(out=self.stdout)
        #: the session's items are a script's, as `mettadb run` reads one (tokens, overlay, type checks)
        self.items = ScriptItems(self.interp)
        self.interactive = self.stdin.isatty()
        self._symbols: list[str] = []
        if self.interactive:
            self._setup_readline()

    def _setup_readline(self) -> None:
        try:
            import readline
        except ImportError:  # pragma: no cover - platform without readline
            return
        hist = os.path.expanduser("~/.mettadb_history")
        with contextlib.suppress(OSError):
            readline.read_history_file(hist)
        import atexit

        atexit.register(lambda: readline.write_history_file(hist))
        readline.set_completer_delims(" \t\n()")
        readline.set_completer(self._complete)
        readline.parse_and_bind("tab: complete")

    def _complete(self, text: str, state: int) -> str | None:
        if state == 0:
            heads = [h["head"] for h in self.space.stats()["heads"] if not h["head"].startswith("(")]
            words = sorted(set(heads) | {"match", "&self", "let", "if", "case", "superpose", "collapse", "add-atom",
                                         "remove-atom", "get-type", "import!", "bind!", "println!"})
            self._symbols = [w for w in words if w.startswith(text)]
        return self._symbols[state] if state < len(self._symbols) else None

    def _read(self) -> str | None:
        lines = InputLines()
        while True:
            prompt = ("metta> " if not lines.lines else "  ...> ") if self.interactive else ""
            try:
                line = input(prompt) if self.interactive else self.stdin.readline()
            except EOFError:
                return None
            if not self.interactive and line == "":
                return lines.text() if lines.lines else None
            line = line.rstrip("\n")
            if not lines.lines and not line.strip():
                continue  # (blank lines between inputs)
            if lines.add(line):
                return lines.text()

    def loop(self) -> None:
        """Run until end of input."""
        while True:
            try:
                text = self._read()
            except KeyboardInterrupt:
                self.stdout.write("\n")
                continue
            if text is None:
                return
            self.handle(text)

    def handle(self, text: str) -> None:
        """Parse and run one complete input; errors are printed, never fatal."""
        where = _undecodable(text)
        if where is not None:
            self.stdout.write(f"Error: {where}\n")
            self.stdout.flush()
            return
        try:
            items = list(parse_script(text, "<repl>"))
        except ParseError as e:
            self.stdout.write(f"Error: {e}\n")
            return
        for bang, atom in items:
            try:
                # (a failed commit is a failure of the item: what it added is forgotten)
                with self.items.counting(), self.space.transaction():
                    if bang:
                        self.stdout.write(format_results(self.items.evaluate(atom)) + "\n")
                    else:
                        bad = self.items.add(atom)
                        if bad:  # type-check auto: not added, the errors are shown
                            self.stdout.write(format_results(bad) + "\n")
            except KeyboardInterrupt:
                self.interp.invalidate()  # what it read inside the rolled-back transaction is gone
                self.stdout.write("interrupted (nothing was changed)\n")
            except MettaDBError as e:
                self.interp.invalidate()
                self.stdout.write(f"Error: {e}\n")
            self.stdout.flush()


def _undecodable(text: str) -> str | None:
    """Where input read with `surrogateescape` held a byte that is not UTF-8 (as the file loaders say it)."""
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            head = text[:i]
            line = head.count("\n") + 1
            col = i - (head.rfind("\n") + 1) + 1
            return f"<repl>:{line}:{col}: invalid UTF-8 byte 0x{ord(ch) - 0xDC00:02x}"
    return None
