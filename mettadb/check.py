# mypy: disable-error-code="arg-type,union-attr,type-var,assignment,misc"
# (py-lmdb types every value as bytes | memoryview; mettadb opens transactions with buffers=False,
#  so they are bytes.)
"""`Space.check()`: rebuild every derived structure in memory and compare."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .encoding import decode, split_tokens
from .errors import DecodeError
from .keys import const_prefix, is_hashed, path_head_key, reverse_key, storage_key

if TYPE_CHECKING:
    from .store import Space

__all__ = ["check_space"]

_MAX_REPORT = 50


def check_space(space: Space, progress: Callable[[int], None] | None = None) -> list[str]:
    """Problems found (empty when the space is sound); reads one consistent snapshot.

    `progress(n)` is called now and then with the number of distinct atoms checked so far.
    """
    from .store import FORMAT_VERSION, _Record, _reversible, _unpack

    problems: list[str] = []

    def problem(msg: str) -> None:
        if len(problems) < _MAX_REPORT:
            problems.append(msg)

    with space._read() as txn:
        dbs = space._dbs
        raw = txn.get(b"format_version", db=dbs[b"meta"])
        version = _unpack(raw) if raw is not None else None
        if version is None:
            problem("no format version")
        elif version > FORMAT_VERSION:
            problem(f"unknown format version {version}")
        expected_rev: set[bytes] = set()
        expected_vx: set[tuple[bytes, bytes]] = set()
        heads: dict[bytes, list[int]] = {}
        total = distinct = 0
        for key, value in txn.cursor(db=dbs[b"atoms"]):
            try:
                rec = _Record(key, value)
                decode(rec.path, rec.names)
            except (DecodeError, ValueError, TypeError, IndexError) as e:
                problem(f"atom key {key[:40].hex()} does not decode: {e}")
                continue
            if storage_key(rec.path) != key:
                problem(f"atom key {key[:40].hex()} does not match its path")
            if rec.count < 1:
                problem(f"atom {decode(rec.path)} has count {rec.count}")
            total += rec.count
            distinct += 1
            if progress is not None and not distinct & 0x3FFF:
                progress(distinct)
            hk = path_head_key(rec.path)
            h = heads.setdefault(hk, [0, 0])
            h[0] += 1
            h[1] += rec.count
            toks = split_tokens(rec.path)
            if rec.names is not None or is_hashed(key):
                expected_vx.add((b"v" + const_prefix(toks)[0], key))
            elif _reversible(toks):
                expected_rev.add(reverse_key(toks))
        actual_rev = set(txn.cursor(db=dbs[b"rev"]).iternext(values=False))
        for k in sorted(actual_rev - expected_rev)[:10]:
            problem(f"reverse index entry {k[:40].hex()} has no atom")
        for k in sorted(expected_rev - actual_rev)[:10]:
            problem(f"reverse index entry {k[:40].hex()} is missing")
        actual_vx = set(txn.cursor(db=dbs[b"vx"]).iternext())
        for k, v in sorted(actual_vx - expected_vx)[:10]:
            problem(f"variable index entry {k[:40].hex()} -> {v[:40].hex()} has no atom")
        for k, v in sorted(expected_vx - actual_vx)[:10]:
            problem(f"atom key {v[:40].hex()} missing from the variable index")
        actual_heads = {k: _unpack(v) for k, v in txn.cursor(db=dbs[b"heads"])}
        for hk in sorted(set(actual_heads) | set(heads)):
            if actual_heads.get(hk) != heads.get(hk):
                problem(f"statistics for head {hk[:40].hex()}: stored {actual_heads.get(hk)}, actual {heads.get(hk)}")
        meta_total = _unpack(txn.get(b"atoms", db=dbs[b"meta"]) or b"\x00")
        meta_distinct = _unpack(txn.get(b"distinct", db=dbs[b"meta"]) or b"\x00")
        if (meta_total, meta_distinct) != (total, distinct):
            problem(f"totals: stored {meta_total} atoms / {meta_distinct} distinct, actual {total} / {distinct}")
    return problems
