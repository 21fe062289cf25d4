"""`mettadb check`: rebuild every derived structure from one snapshot and compare, in bounded memory."""

from __future__ import annotations

from collections.abc import Callable

from .encoding import checked_tokens, decode, flat_symbols
from .errors import DamagedSpaceError, DecodeError
from .keys import path_head_key, reverse_key, storage_key, unreverse_key
from .layout import Record, has_variants, index_entry, unpack_value
from .store import FORMAT_VERSION, Store

__all__ = ["check_space"]

_MAX_REPORT = 50
#: reverse-index keys looked up at a time, sorted (bounds the check's memory)
_BATCH = 100_000
#: sequence numbers a check tracks one bit each for uniqueness
_MAX_SEQ_BITS = 1 << 30


def check_space(space: Store, progress: Callable[[int], None] | None = None) -> list[str]:
    """Problems found (empty when the space is sound); reads one consistent snapshot.

    `progress` is called with the number of atoms checked so far, every 65,536.
    Memory does not grow with the space: the reverse index is probed in sorted
    batches and its entries counted (every expected entry present and no more
    entries than expected means no stray ones; only then is it walked to name
    them); only the variable index (atoms with variables or hashed keys) and
    the per-head statistics are held.
    """
    problems: list[str] = []

    def problem(msg: str) -> None:
        if len(problems) < _MAX_REPORT:
            problems.append(msg)

    stage = ["the format version"]
    try:
        with space.decoding():
            _check(space, progress, problem, stage)
    except DamagedSpaceError as e:  # LMDB met a page it never wrote: the check cannot go on past it
        problems.append(f"damaged pages: {e.reason} while reading {stage[0]}; the check stopped there "
                        "(restore the space from a backup)")
    return problems


def _check(space: Store, progress: Callable[[int], None] | None, problem: Callable[[str], None],
           stage: list[str]) -> None:
    """The checks of `check_space`; `stage[0]` names what is being read."""
    with space.read() as txn:
        dbs = space.dbs
        raw = txn.get(b"format_version", db=dbs.meta)
        version = unpack_value(raw) if raw is not None else None
        if version is None:
            problem("no format version")
        elif version > FORMAT_VERSION:
            problem(f"unknown format version {version}")
        rev_cursor = txn.cursor(db=dbs.rev)
        batch: list[bytes] = []
        missing_rev = 0

        def probe_rev() -> None:
            nonlocal missing_rev
            batch.sort()
            reading, stage[0] = stage[0], "the reverse index"
            found = rev_cursor.getmulti(batch)
            stage[0] = reading
            if len(found) != len(batch):
                have = {k for k, _ in found}
                for k in batch:
                    if k not in have:
                        missing_rev += 1
                        if missing_rev <= 10:
                            problem(f"reverse index entry {k[:40].hex()} is missing")
            batch.clear()

        expected_vx: set[tuple[bytes, bytes]] = set()
        heads: dict[bytes, list[int]] = {}
        seen: set[bytes] = set()
        total = distinct = expected_rev = 0
        flat = flat_symbols
        # insertion sequence numbers (format 3): each atom has one, below `meta.seq`, no two alike
        raw = txn.get(b"seq", db=dbs.meta)
        next_seq = unpack_value(raw) if raw is not None else None
        if next_seq is None:
            problem("no next sequence number (meta.seq)")
            next_seq = 0
        # one bit per number below meta.seq finds two atoms with one number, up to 2**30 numbers (128 MB;
        # bulk loads number by input bytes, ~25 per atom: ~40M bulk-loaded atoms); past that only the
        # range is checked, so memory stays bounded
        seen_seq = bytearray((next_seq >> 3) + 1) if next_seq <= _MAX_SEQ_BITS else None
        bad_seq = 0

        def number(key: bytes, seq: object) -> None:
            nonlocal bad_seq
            if not isinstance(seq, int) or not 0 <= seq < next_seq:
                bad_seq += 1
                if bad_seq <= 10:
                    problem(f"atom key {key[:40].hex()} has sequence number {seq!r}, next is {next_seq}")
                return
            if seen_seq is None:
                return
            bit = 1 << (seq & 7)
            dup = bool(seen_seq[seq >> 3] & bit)
            seen_seq[seq >> 3] |= bit
            if dup:
                bad_seq += 1
                if bad_seq <= 10:
                    problem(f"atom key {key[:40].hex()} has sequence number {seq}, which another atom has too")

        seq_of = Record.seq_of
        stage[0] = "the atoms"
        for key, value in txn.cursor(db=dbs.atoms):
            if progress is not None and not distinct & 0xFFFF:
                progress(distinct)
            t = value[0]
            single = t < 0x80 or 0xCB < t < 0xD0
            if single:  # the common record: one copy, no names, the key is the path
                syms = flat(key)
                if syms is not None:  # a flat expression of valid symbols: nothing else to check
                    seq = t if t < 0x80 else int.from_bytes(value[1:], "big")  # `number`, in line
                    if seen_seq is not None and seq < next_seq and not seen_seq[seq >> 3] & (1 << (seq & 7)):
                        seen_seq[seq >> 3] |= 1 << (seq & 7)
                    else:
                        number(key, seq)
                    total += 1
                    distinct += 1
                    hk = key[:1] + syms[0]
                    h = heads.get(hk)
                    if h is None:
                        h = heads[hk] = [0, 0]
                    h[0] += 1
                    h[1] += 1
                    if len(syms) > 2:
                        batch.append(hk + b"".join(syms[:0:-1]))
                        expected_rev += 1
                        if len(batch) >= _BATCH:
                            probe_rev()
                    continue
            try:
                if single:
                    count, names, path, seq = 1, None, key, seq_of(key, value)
                else:
                    rec = Record(key, value)
                    count, names, path, seq = rec.count, rec.names, rec.path, rec.seq
                tokens = checked_tokens(path, seen)[1]
            except (DecodeError, ValueError, TypeError, IndexError) as e:
                problem(f"atom key {key[:40].hex()} does not decode: {e}")
                continue
            if single or not has_variants(value):
                number(key, seq)
            else:  # atoms equal up to variable names: a number and copies each, names apart
                variants = rec.variants
                for vn, vc, vs in variants:
                    number(key, vs)
                    if vc < 1:
                        problem(f"atom {decode(path, vn)} has count {vc}")
                if len({tuple(v[0] or ()) for v in variants}) < len(variants) or len(variants) < 2:
                    problem(f"atom key {key[:40].hex()} holds {len(variants)} variants, not all apart by names")
                if sum(v[1] for v in variants) != count or [v[2] for v in variants] != sorted(v[2] for v in variants) \
                        or variants[0][2] != seq:
                    problem(f"atom key {key[:40].hex()} has a total or first number that its variants do not give")
            if path is not key and storage_key(path) != key:
                problem(f"atom key {key[:40].hex()} does not match its path")
            if count < 1:
                problem(f"atom {decode(path)} has count {count}")
            atoms_here = 1 if single or not has_variants(value) else len(rec.variants)  # (each variant is an atom)
            total += count
            distinct += atoms_here
            hk = path_head_key(path)
            h = heads.get(hk)
            if h is None:
                h = heads[hk] = [0, 0]
            h[0] += atoms_here
            h[1] += count
            if tokens is not None and names is None and path is key:
                entry: tuple[str, bytes] | None = ("rev", reverse_key(tokens))
            else:
                entry = index_entry(path, names is not None)
            if entry is not None:
                if entry[0] == "vx":
                    expected_vx.add((entry[1], key))
                else:
                    batch.append(entry[1])
                    expected_rev += 1
                    if len(batch) >= _BATCH:
                        probe_rev()
        probe_rev()
        stage[0] = "the reverse index"
        if txn.stat(dbs.rev)["entries"] != expected_rev - missing_rev:
            # entries that stand for no atom: walk the index to name them
            stray = 0
            for k in rev_cursor.iternext(values=False) if rev_cursor.first() else ():
                try:
                    path = unreverse_key(k)
                    raw = txn.get(storage_key(path), db=dbs.atoms)
                    ok = raw is not None and index_entry(path, Record(path, raw).names is not None) == ("rev", k)
                except (DecodeError, ValueError, TypeError, IndexError):
                    ok = False
                if not ok:
                    stray += 1
                    if stray <= 10:
                        problem(f"reverse index entry {k[:40].hex()} has no atom")
        stage[0] = "the variable index"
        actual_vx: set[tuple[bytes, bytes]] = set(txn.cursor(db=dbs.vx).iternext())
        for k, v in sorted(actual_vx - expected_vx)[:10]:
            problem(f"variable index entry {k[:40].hex()} -> {v[:40].hex()} has no atom")
        for k, v in sorted(expected_vx - actual_vx)[:10]:
            problem(f"atom key {v[:40].hex()} missing from the variable index")
        stage[0] = "the statistics"
        actual_heads = {k: unpack_value(v) for k, v in txn.cursor(db=dbs.heads)}
        for hk in sorted(set(actual_heads) | set(heads)):
            if actual_heads.get(hk) != heads.get(hk):
                problem(f"statistics for head {hk[:40].hex()}: stored {actual_heads.get(hk)}, actual {heads.get(hk)}")
        stage[0] = "the totals"
        meta_total = unpack_value(txn.get(b"atoms", db=dbs.meta) or b"\x00")
        meta_distinct = unpack_value(txn.get(b"distinct", db=dbs.meta) or b"\x00")
        if (meta_total, meta_distinct) != (total, distinct):
            problem(f"totals: stored {meta_total} atoms / {meta_distinct} distinct, actual {total} / {distinct}")
