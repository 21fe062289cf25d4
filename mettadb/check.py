# mypy: disable-error-code="arg-type,union-attr,type-var,assignment,misc"
# (py-lmdb types every value as bytes | memoryview; mettadb opens transactions with buffers=False,
#  so they are bytes.)
"""`Space.check()`: rebuild every derived structure in memory and compare."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .encoding import checked_tokens, decode, split_tokens
from .errors import DecodeError
from .keys import const_prefix, is_hashed, path_head_key, reverse_key, storage_key, unreverse_key

if TYPE_CHECKING:
    from .store import Space

__all__ = ["check_space"]

_MAX_REPORT = 50
#: reverse-index keys looked up at a time, sorted (bounds the check's memory)
_BATCH = 100_000


def check_space(space: Space) -> list[str]:
    """Problems found (empty when the space is sound); reads one consistent snapshot.

    Memory does not grow with the space: reverse-index entries are looked up in
    sorted batches and counted (all expected ones present and as many entries as
    expected means no stray ones); only the variable index (atoms with variables
    or hashed keys) and the per-head statistics are held.
    """
    from .store import FORMAT_VERSION, _Record, _unpack

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
        rev_cursor = txn.cursor(db=dbs[b"rev"])
        batch: list[bytes] = []
        missing_rev = [0]

        def look_up_rev() -> None:
            batch.sort()
            found = rev_cursor.getmulti(batch)
            if len(found) != len(batch):
                have = {k for k, _ in found}
                for k in batch:
                    if k not in have:
                        missing_rev[0] += 1
                        if missing_rev[0] <= 10:
                            problem(f"reverse index entry {k[:40].hex()} is missing")
            batch.clear()

        expected_vx: set[tuple[bytes, bytes]] = set()
        heads: dict[bytes, list[int]] = {}
        seen: set[bytes] = set()
        total = distinct = expected_rev = 0
        one = b"\x01"
        for key, value in txn.cursor(db=dbs[b"atoms"]):
            try:
                if value == one:  # the common record: one copy, no names, the key is the path
                    count, names, path = 1, None, key
                else:
                    rec = _Record(key, value)
                    count, names, path = rec.count, rec.names, rec.path
                tokens = checked_tokens(path, seen)[1]
            except (DecodeError, ValueError, TypeError, IndexError) as e:
                problem(f"atom key {key[:40].hex()} does not decode: {e}")
                continue
            if path is not key and storage_key(path) != key:
                problem(f"atom key {key[:40].hex()} does not match its path")
            if count < 1:
                problem(f"atom {decode(path)} has count {count}")
            total += count
            distinct += 1
            hk = path_head_key(path)
            h = heads.get(hk)
            if h is None:
                h = heads[hk] = [0, 0]
            h[0] += 1
            h[1] += count
            if names is not None or is_hashed(key):
                expected_vx.add((b"v" + const_prefix(split_tokens(path))[0], key))
            elif tokens is not None:
                batch.append(reverse_key(tokens))
                expected_rev += 1
                if len(batch) >= _BATCH:
                    look_up_rev()
        look_up_rev()
        if txn.stat(dbs[b"rev"])["entries"] != expected_rev - missing_rev[0]:
            # some entries stand for no atom: find them (each names the atom it claims)
            stray = 0
            atoms_db = dbs[b"atoms"]
            for k in rev_cursor.iternext(values=False) if rev_cursor.first() else ():
                try:
                    path = unreverse_key(k)
                    raw = txn.get(storage_key(path), db=atoms_db)
                    ok = raw == one or _names_free(raw, path)
                except (DecodeError, ValueError, IndexError):
                    ok = False
                if not ok:
                    stray += 1
                    if stray <= 10:
                        problem(f"reverse index entry {k[:40].hex()} has no atom")
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


def _names_free(raw: bytes | None, path: bytes) -> bool:
    """Whether a primary record exists for `path` and belongs in the reverse index (no variable names)."""
    from .store import _Record

    return raw is not None and _Record(path, raw).names is None
