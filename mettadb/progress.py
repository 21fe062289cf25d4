"""A progress line on stderr that exists only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """`update(done, items)` redraws at most 10 times a second; `close()` erases the line."""

    def __init__(self, label: str, total: int | None = None, unit: str = "atoms",
                 stream: TextIO | None = None, enabled: bool | None = None, bytes_done: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.total = total
        self.unit = unit
        #: `done` counts bytes of input (load) rather than items
        self.bytes_done = bytes_done
        self.start = time.perf_counter()
        self._last = 0.0
        self._shown = False

    def update(self, done: int, items: int) -> None:
        """Report `done` bytes (of `total`) and `items` processed."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.1:
            return
        self._last = now
        rate = items / max(now - self.start, 1e-9)
        show = _size if self.unit == "atoms" and self.bytes_done else (lambda n: f"{n:,}")
        if self.total:
            frac = min(done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            text = f"{self.label} [{bar:<30}] {frac:4.0%} {show(done)}/{show(self.total)} {rate:,.0f} {self.unit}/s"
        else:
            text = f"{self.label} {show(done)} {items:,} {self.unit} {rate:,.0f} {self.unit}/s"
        self.stream.write("\r" + text[:110].ljust(110))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Erase the progress line."""
        if self._shown:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()
            self._shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(n: float) -> str:
    """Bytes for humans."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}GB"
