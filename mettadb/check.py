"""`mettadb check`: rebuild every derived structure in memory from one snapshot and compare."""

from __future__ import annotations

from collections.abc import Callable

from .encoding import decode
from .errors import DecodeError
from .keys import path_head_key, storage_key
from .layout import Record, index_entry, unpack_value
from .store import FORMAT_VERSION, Store

__all__ = ["check_space"]

_MAX_REPORT = 50


def check_space(space: Store, progress: Callable[[int], None] | None = None) -> list[str]:
    """Problems found (empty when the space is sound); reads one consistent snapshot.

    `progress` is called with the number of atoms checked so far, every 65,536.
    """
    problems: list[str] = []

    def problem(msg: str) -> None:
        if len(problems) < _MAX_REPORT:
            problems.append(msg)

    with space.read() as txn:
        dbs = space.dbs
        raw = txn.get(b"format_version", db=dbs.meta)
        version = unpack_value(raw) if raw is not None else None
        if version is None:
            problem("no format version")
        elif version > FORMAT_VERSION:
            problem(f"unknown format version {version}")
        expected_rev: set[bytes] = set()
        expected_vx: set[tuple[bytes, bytes]] = set()
        heads: dict[bytes, list[int]] = {}
        total = distinct = 0
        for key, value in txn.cursor(db=dbs.atoms):
            if progress is not None and not distinct & 0xFFFF:
                progress(distinct)
            try:
                rec = Record(key, value)
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
            hk = path_head_key(rec.path)
            h = heads.setdefault(hk, [0, 0])
            h[0] += 1
            h[1] += rec.count
            entry = index_entry(rec.path, rec.names is not None)
            if entry is not None:
                if entry[0] == "vx":
                    expected_vx.add((entry[1], key))
                else:
                    expected_rev.add(entry[1])
        actual_rev: set[bytes] = set(txn.cursor(db=dbs.rev).iternext(values=False))
        for k in sorted(actual_rev - expected_rev)[:10]:
            problem(f"reverse index entry {k[:40].hex()} has no atom")
        for k in sorted(expected_rev - actual_rev)[:10]:
            problem(f"reverse index entry {k[:40].hex()} is missing")
        actual_vx: set[tuple[bytes, bytes]] = set(txn.cursor(db=dbs.vx).iternext())
        for k, v in sorted(actual_vx - expected_vx)[:10]:
            problem(f"variable index entry {k[:40].hex()} -> {v[:40].hex()} has no atom")
        for k, v in sorted(expected_vx - actual_vx)[:10]:
            problem(f"atom key {v[:40].hex()} missing from the variable index")
        actual_heads = {k: unpack_value(v) for k, v in txn.cursor(db=dbs.heads)}
        for hk in sorted(set(actual_heads) | set(heads)):
            if actual_heads.get(hk) != heads.get(hk):
                problem(f"statistics for head {hk[:40].hex()}: stored {actual_heads.get(hk)}, actual {heads.get(hk)}")
        meta_total = unpack_value(txn.get(b"atoms", db=dbs.meta) or b"\x00")
        meta_distinct = unpack_value(txn.get(b"distinct", db=dbs.meta) or b"\x00")
        if (meta_total, meta_distinct) != (total, distinct):
            problem(f"totals: stored {meta_total} atoms / {meta_distinct} distinct, actual {total} / {distinct}")
    return problems
