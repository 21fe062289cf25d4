"""The value stored under a primary key: copies, variable names, the full path of a hashed key.

A plain ground atom stored once has the one-byte value `0x01`; a few copies,
a small msgpack integer; otherwise `[count, names]` or `[count, names, path]`.
"""

from __future__ import annotations

from typing import Any

import msgpack

__all__ = ["ONE", "Record", "copies"]

#: the value of a plain ground atom held once
ONE = msgpack.packb(1)


def copies(raw: bytes) -> int:
    """How many copies a stored value records."""
    if len(raw) == 1 and raw[0] < 0x80:
        return raw[0]
    v: Any = msgpack.unpackb(raw)
    return int(v) if isinstance(v, int) else int(v[0])


class Record:
    """A primary key's value, decoded."""

    __slots__ = ("count", "names", "path")

    def __init__(self, key: bytes, raw: bytes) -> None:
        v: Any = msgpack.unpackb(raw)
        self.count: int
        self.names: list[str] | None
        self.path: bytes
        if isinstance(v, int):
            self.count, self.names, self.path = v, None, key
        else:
            self.count = v[0]
            self.names = v[1] or None
            self.path = v[2] if len(v) > 2 else key
