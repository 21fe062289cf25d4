"""The `mettadb` command line: a thin click layer over the library."""

from __future__ import annotations

__all__: list[str] = []
