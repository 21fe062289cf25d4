"""The stored layout of one atom: its record, its statistics bucket and the index it joins.

`encoding` turns atoms into paths and `keys` turns paths into keys; this
module says what the store writes for a path (docs/FORMAT.md):

* the primary record, a msgpack value: `1`, a count, `[count, names]` for
  atoms with variables, or `[count, names, path]` when the key is hashed;
* which secondary index the path belongs to: `vx` (atoms a prefix scan
  cannot find: with variables, or hashed), `rev` (ground `(h a1 .. an)`,
  n >= 2, symbol head), or none.

Every writer, the bulk loader and the checker ask this module, so the rule
is written once.
"""

from __future__ import annotations

from typing import Any, Literal

import msgpack

from .encoding import is_arity_tag, is_symbol_tag, split_tokens
from .keys import MAX_PLAIN, const_prefix, reverse_key

__all__ = [
    "ONE",
    "Record",
    "index_entry",
    "is_reversible",
    "pack_value",
    "unpack_value",
    "vx_key",
]

IndexKind = Literal["vx", "rev"]


def pack_value(v: Any) -> bytes:
    """A metadata or statistics value as stored (msgpack)."""
    out: bytes = msgpack.packb(v, use_bin_type=True)
    return out


def unpack_value(b: bytes) -> Any:
    """The inverse of `pack_value`."""
    return msgpack.unpackb(b, raw=False, use_list=True)


#: the record of a plain atom stored once: the common case, compared by identity of bytes
ONE = pack_value(1)


def is_reversible(tokens: list[bytes]) -> bool:
    """Whether a ground path's tokens go into the reverse index: `(h a1 .. an)`, n >= 2, symbol head."""
    return len(tokens) > 3 and 3 <= tokens[0][0] and is_arity_tag(tokens[0][0]) and is_symbol_tag(tokens[1][0])


def index_entry(path: bytes, has_variables: bool, tokens: list[bytes] | None = None) -> tuple[IndexKind, bytes] | None:
    """The secondary index a stored path belongs to and its key there, or None (`tokens`: its split, if known).

    `vx` holds what a prefix scan cannot find (atoms with variables, hashed
    keys); `rev` holds ground `(h a1 .. an)`, n >= 2, symbol head.
    """
    if has_variables or len(path) > MAX_PLAIN:
        return "vx", vx_key(tokens if tokens is not None else split_tokens(path))
    if tokens is None:
        if not (3 <= path[0] and is_arity_tag(path[0])):
            return None
        tokens = split_tokens(path)
    return ("rev", reverse_key(tokens)) if is_reversible(tokens) else None


def vx_key(tokens: list[bytes]) -> bytes:
    """The `vx` index key of a path: `v` and its constant prefix (dupsort; the value is the primary key)."""
    return b"v" + const_prefix(tokens)[0]




class Record:
    """The decoded value of a primary key: how many copies, variable names, the full path."""

    __slots__ = ("count", "names", "path")

    def __init__(self, key: bytes, raw: bytes) -> None:
        v = unpack_value(raw)
        if isinstance(v, int):
            self.count, self.names, self.path = v, None, key
        else:
            self.count = v[0]
            self.names = v[1] or None
            self.path = v[2] if len(v) > 2 else key

    @staticmethod
    def pack(count: int, names: list[str] | None, path: bytes | None) -> bytes:
        """The stored value; `path` only for hashed keys."""
        if path is not None:
            return pack_value([count, names or [], path])
        if names:
            return pack_value([count, names])
        return ONE if count == 1 else pack_value(count)

    @staticmethod
    def count_of(key: bytes, raw: bytes) -> int:
        """The copy count without building the record (a one-byte value is a small int)."""
        if len(raw) == 1 and raw[0] < 0x80:
            return raw[0]
        return int(Record(key, raw).count)
