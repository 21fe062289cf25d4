"""The stored layout of one atom: its record, its statistics bucket and the index it joins.

`encoding` turns atoms into paths and `keys` turns paths into keys; this
module says what the store writes for a path (docs/FORMAT.md):

* the primary record, a msgpack value: the atom's insertion sequence number
  (a ground atom with a plain key, stored once), `[count, seq]` (the same,
  stored count times), `[count, seq, names]` for atoms with variables, or
  `[count, seq, names, path]` when the key is hashed, or, when atoms equal up
  to the names of their variables were added (format 4), `[count, seq, names,
  path or nil, variants]`, each variant `[names, count, seq]` in insertion order
  (the first three fields are then the total and the first variant's);
* which secondary index the path belongs to: `vx` (atoms a prefix scan
  cannot find: with variables, or hashed), `rev` (ground `(h a1 .. an)`,
  n >= 2, symbol head), or none.

Every writer, the bulk loader and the checker ask this module, so the rule
is written once.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any, Literal

import msgpack

from .encoding import is_arity_tag, is_symbol_tag, split_tokens
from .keys import MAX_PLAIN, const_prefix, reverse_key

__all__ = [
    "FIRST_SEQ",
    "Record",
    "has_variants",
    "index_entry",
    "is_reversible",
    "is_single",
    "pack_seq",
    "pack_value",
    "u32_seq",
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


#: the first insertion sequence number of a space: numbers from 2**16 to 2**32 - 1 are all msgpack
#: uint32 (`0xCE` + 4 bytes big-endian), so they pack fast, and records' bytes compare as their numbers
FIRST_SEQ = 1 << 16

#: `u32_seq(seq)`: `pack_seq` for FIRST_SEQ <= seq < 2**32, without the test (hot loops)
u32_seq: Callable[[int], bytes] = functools.partial(struct.Struct(">BI").pack, 0xCE)


def pack_seq(seq: int) -> bytes:
    """The record of a ground atom with a plain key stored once: its sequence number, msgpack's
    shortest encoding (as `pack_value`, faster for numbers from FIRST_SEQ to 2**32 - 1)."""
    if FIRST_SEQ <= seq < 0x100000000:
        return u32_seq(seq)
    out: bytes = msgpack.packb(seq)
    return out


def is_single(raw: bytes) -> bool:
    """Whether a record is a bare sequence number: a ground atom with a plain key, stored once (msgpack
    positive fixint or uint8-uint64; the hot loops inline this test on `raw[0]`)."""
    t = raw[0]
    return t < 0x80 or 0xCB < t < 0xD0


def has_variants(raw: bytes) -> bool:
    """Whether a record holds several atoms equal up to variable names (format 4's `[count, seq, names,
    path, variants]`, a msgpack fixarray of 5), without decoding it."""
    return raw[0] == 0x95


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
    """The decoded value of a primary key: how many copies, when it was added, variable names, the full path.

    `seq` is the atom's insertion sequence number (format 3): the order hyperon
    returns stored atoms in.  Copies share their atom's number: hyperon keeps
    them together, counted where the atom is.  Atoms equal up to the names of
    their variables share the key but are different atoms (hyperon's): each is a
    variant with its own names, count and number (`variants`); `count` is then
    their total and `names`, `seq` the first's.
    """

    __slots__ = ("count", "more", "names", "path", "seq")

    def __init__(self, key: bytes, raw: bytes) -> None:
        v = unpack_value(raw)
        self.more: list[list[Any]] | None = None
        if isinstance(v, int):
            self.count, self.seq, self.names, self.path = 1, v, None, key
        else:
            self.count = v[0]
            self.seq = v[1]
            self.names = (v[2] or None) if len(v) > 2 else None
            self.path = v[3] if len(v) > 3 and v[3] is not None else key
            if len(v) > 4:
                self.more = v[4]

    @property
    def variants(self) -> list[tuple[list[str] | None, int, int]]:
        """(names, count, seq) of each atom this key holds, in insertion order."""
        if self.more is None:
            return [(self.names, self.count, self.seq)]
        return [(n or None, c, s) for n, c, s in self.more]

    @classmethod
    def legacy(cls, key: bytes, raw: bytes) -> Record:
        """A record as formats 0-2 stored it (`count`, `[count, names]`, `[count, names, path]`: no
        sequence number, `seq` is -1); for migrations."""
        rec = cls.__new__(cls)
        v = unpack_value(raw)
        rec.seq = -1
        rec.more = None
        if isinstance(v, int):
            rec.count, rec.names, rec.path = v, None, key
        else:
            rec.count, rec.names = v[0], v[1] or None
            rec.path = v[2] if len(v) > 2 else key
        return rec

    @staticmethod
    def pack(count: int, seq: int, names: list[str] | None, path: bytes | None) -> bytes:
        """The stored value; `path` only for hashed keys."""
        if path is not None:
            return pack_value([count, seq, names or [], path])
        if names:
            return pack_value([count, seq, names])
        return pack_value(seq) if count == 1 else pack_value([count, seq])

    @staticmethod
    def pack_variants(variants: list[tuple[list[str] | None, int, int]], path: bytes | None) -> bytes:
        """The stored value of a key's variants (names, count, seq), at least one; `path` only for
        hashed keys.  One variant is stored as `pack` stores it."""
        if len(variants) == 1:
            names, count, seq = variants[0]
            return Record.pack(count, seq, names, path)
        vs = sorted(variants, key=lambda x: x[2])
        return pack_value([sum(v[1] for v in vs), vs[0][2], vs[0][0] or [], path,
                           [[n or [], c, s] for n, c, s in vs]])

    def variant_raws(self, hashed: bool) -> list[bytes]:
        """The record of each variant alone (as if the key held only it): what a query's row carries."""
        path = self.path if hashed else None
        return [Record.pack(count, seq, names, path) for names, count, seq in self.variants]

    @staticmethod
    def count_of(key: bytes, raw: bytes) -> int:
        """The copy count without building the record (a bare number is one copy)."""
        t = raw[0]
        if t < 0x80 or 0xCB < t < 0xD0:
            return 1
        return int(Record(key, raw).count)

    @staticmethod
    def seq_of(key: bytes, raw: bytes) -> int:
        """The insertion sequence number without building the record."""
        t = raw[0]
        if t < 0x80:
            return t
        if 0xCB < t < 0xD0:
            return int.from_bytes(raw[1:], "big")
        return int(Record(key, raw).seq)
