"""Index-maintaining writes inside one LMDB write transaction.

A `Writer` adds and removes paths in the primary database and keeps the
secondary indexes (`layout.index_kind` says which) and the statistics in
step; `finish` writes the statistics and bumps the generation.  It knows
nothing of transactions' lifetimes: the store begins, commits and replays.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from .env import prefix_items
from .keys import MAX_PLAIN, head_key, is_hashed, path_head_key, storage_key
from .layout import FIRST_SEQ, Record, has_variants, index_entry, pack_seq, pack_value, unpack_value
from .trieorder import NODE_PREFIX, Numbers, TriePath, node_key

if TYPE_CHECKING:
    from .env import Dbs, Txn

__all__ = ["LOADED_PREFIX", "Writer", "rebuild_derived"]

#: `meta` keys of files loaded whole since the last removal: the prefix, then the digest of their
#: contents (`loading.Fingerprint`); the value is `[atoms read, "!" expressions]`.  Every atom of such
#: a file is in the space, so loading it again adds nothing.  A removal forgets them all.
LOADED_PREFIX = b"lf:"
#: the format that introduced records of variants (`layout.Record.variants`)
VARIANTS_FORMAT = 4


class _Kept:
    """A record of variants held decoded by a writer: its rows `[names, count, seq]` in number order (as
    stored), the same rows by names, the total count, the path if the key is hashed."""

    __slots__ = ("by_names", "path", "rows", "total")

    def __init__(self, rows: list[list[Any]], by_names: dict[tuple[str, ...], list[Any]], total: int,
                 path: bytes | None) -> None:
        self.rows, self.by_names, self.total, self.path = rows, by_names, total, path


class Writer:
    """Writes of one transaction: primary records, indexes, per-head statistics and totals."""

    def __init__(self, txn: Txn, dbs: Dbs) -> None:
        self.txn = txn
        self.dbs = dbs
        self.atoms, self.rev, self.vx, self.heads, self.meta = dbs.atoms, dbs.rev, dbs.vx, dbs.heads, dbs.meta
        self.head_delta: dict[bytes, list[int]] = {}
        self.total_delta = 0
        self.distinct_delta = 0
        #: bumped at every change to the `vx` index, so readers' mirrors of it know when to refresh
        self.vx_changes = 0
        #: whether anything was written; a transaction that wrote nothing is not committed
        self.changed = False
        #: bumped by every change, so readers inside this transaction know when what they derived is stale
        self.version = 0
        #: the next insertion sequence number (`meta.seq`), read at the first add; written by `finish`
        self._seq: int | None = None
        self._forgot_loads = False
        self._format4 = False
        #: records of variants this transaction added to, decoded (`_add_kept`); dropped by any other write
        #: of their key
        self._variants: dict[bytes, _Kept] = {}

    def next_seq(self) -> int:
        """Take the next insertion sequence number."""
        s = self._seq
        if s is None:
            raw = self.txn.get(b"seq", db=self.meta)
            s = unpack_value(raw) if raw is not None else FIRST_SEQ
        self._seq = s + 1
        return int(s)

    def peek_seq(self) -> int:
        """The next insertion sequence number, not taken."""
        if self._seq is None:
            raw = self.txn.get(b"seq", db=self.meta)
            self._seq = unpack_value(raw) if raw is not None else FIRST_SEQ
        return int(self._seq)

    def reserve_seq(self) -> int:
        """Take the next insertion sequence number for an atom added later (`add_path(seq=...)`);
        the number is committed like a change, so later atoms number after it."""
        self.changed = True
        return self.next_seq()

    def set_seq(self, seq: int) -> None:
        """Make `seq` the next number (bulk loads number their atoms themselves)."""
        self._seq = seq

    def add_path(self, path: bytes, names: list[str] | None, tokens: list[bytes] | None,
                 count: int = 1, union: bool = False, seq: int | None = None) -> bool:
        """Add `count` copies (or, with union, the atom if absent); True if it was new (an atom equal
        to a stored one up to the names of its variables is new: another variant of its record).

        A new atom takes the next insertion sequence number (or `seq`, which a bulk load gave it);
        copies keep their atom's.
        """
        key = storage_key(path)
        hashed = len(path) > MAX_PLAIN
        txn = self.txn
        if not hashed and names is None and count == 1 and seq is None:
            seq = self._seq if self._seq is not None else self.peek_seq()
            if txn.put(key, pack_seq(seq), db=self.atoms, overwrite=False):
                self._seq = seq + 1
                self._indexed(key, path, names, tokens, 1)
                return True
        kept = self._variants.get(key)
        if kept is not None:
            return self._add_kept(kept, key, path, names, tokens, count, union, seq)
        raw = txn.get(key, db=self.atoms)
        if raw is not None:
            if not has_variants(raw):  # one atom under the key: another copy of it, or a second atom (a variant)
                old = Record(key, raw)
                if old.names != (names or None):
                    return self._add_kept(self._keep_variants(key, raw), key, path, names, tokens, count, union, seq)
                if union:
                    return False
                txn.put(key, Record.pack(old.count + count, old.seq, old.names, path if hashed else None),
                        db=self.atoms)
                self._count(path, tokens, count, False)
                return False
            # a record of variants: kept decoded for the rest of the transaction
            return self._add_kept(self._keep_variants(key, raw), key, path, names, tokens, count, union, seq)
        txn.put(key, Record.pack(count, self.next_seq() if seq is None else seq, names, path if hashed else None),
                db=self.atoms)
        self._indexed(key, path, names, tokens, count)
        return True

    def kept_count(self, key: bytes, names: list[str] | None) -> int | None:
        """Copies of the atom with these names under `key` if this transaction keeps the key's variants
        decoded (else None: read the record)."""
        kept = self._variants.get(key)
        if kept is None:
            return None
        row = kept.by_names.get(tuple(names or ()))
        return 0 if row is None else int(row[1])

    def _keep_variants(self, key: bytes, raw: bytes) -> _Kept:
        rec = Record(key, raw)
        rows: list[list[Any]] = [[n or [], c, sq] for n, c, sq in rec.variants]
        kept = _Kept(rows, {tuple(r[0]): r for r in rows}, rec.count, rec.path if is_hashed(key) else None)
        self._variants[key] = kept
        return kept

    def _add_kept(self, kept: _Kept, key: bytes, path: bytes, names: list[str] | None, tokens: list[bytes] | None,
                  count: int, union: bool, seq: int | None) -> bool:
        """`add_path` into a record of variants this transaction keeps decoded (`_variants`): a lookup
        and one packing, not a decoding and a search (many atoms equal up to variable names added one
        by one cost O(k) each in C, not in Python)."""
        mine = tuple(names or ())
        row = kept.by_names.get(mine)
        new = row is None
        if row is not None:
            if union:
                return False
            row[1] += count
        else:  # equal up to the names of its variables: another atom (hyperon's), numbered apart
            self._variants_written()
            s = self.next_seq() if seq is None else seq
            row = [list(mine), count, s]
            rows = kept.rows
            if rows and s < rows[-1][2]:  # (a bulk load's number, below the last: kept in order)
                rows.insert(bisect.bisect_left([r[2] for r in rows], s), row)
            else:
                rows.append(row)
            kept.by_names[mine] = row
        kept.total += count
        first = kept.rows[0]
        self.txn.put(key, pack_value([kept.total, first[2], first[0], kept.path, kept.rows]), db=self.atoms)
        self._count(path, tokens, count, new)
        return new

    def add_variants(self, path: bytes, tokens: list[bytes] | None,
                     atoms: list[tuple[list[str] | None, int, int]], union: bool = False) -> int:
        """`add_path` of several atoms of one path at once: (names, count, seq) each, `seq` used if the
        atom is new (loads number atoms in input order); returns how many were new.  The record is read
        and written once, however many atoms (one by one, a key of k variants costs O(k) per add)."""
        key = storage_key(path)
        hashed = len(path) > MAX_PLAIN
        self._variants.pop(key, None)
        raw = self.txn.get(key, db=self.atoms)
        variants = Record(key, raw).variants if raw is not None else []
        where = {tuple(v[0] or ()): i for i, v in enumerate(variants)}
        copies = new = 0
        for names, count, seq in atoms:
            k = tuple(names or ())
            i = where.get(k)
            if i is None:
                where[k] = len(variants)
                variants.append((names or None, count, seq))
                new += 1
                copies += count
            elif not union:
                vn, vc, vs = variants[i]
                variants[i] = (vn, vc + count, vs)
                copies += count
        if not copies:
            return 0
        if len(variants) > 1:
            self._variants_written()
        self.txn.put(key, Record.pack_variants(variants, path if hashed else None), db=self.atoms)
        if raw is None:  # a new key: its index entry
            self._put_index(key, path, variants[0][0] is not None, tokens)
        self._count(path, tokens, copies, False)
        self.head_delta[head_key(tokens) if tokens is not None else path_head_key(path)][0] += new
        self.distinct_delta += new
        return new

    def _variants_written(self) -> None:
        """A record of variants is format 4's: a format-3 space becomes format 4 in this transaction (so
        a release before format 4, which would misread the record, refuses it from then on)."""
        if not self._format4:
            raw = self.txn.get(b"format_version", db=self.meta)
            if raw is not None and unpack_value(raw) < VARIANTS_FORMAT:
                self.txn.put(b"format_version", pack_value(VARIANTS_FORMAT), db=self.meta)
            self._format4 = True

    def _indexed(self, key: bytes, path: bytes, names: list[str] | None, tokens: list[bytes] | None,
                 count: int) -> None:
        self._put_index(key, path, names is not None, tokens)
        self._count(path, tokens, count, True)

    def _put_index(self, key: bytes, path: bytes, has_variables: bool, tokens: list[bytes] | None) -> None:
        """The secondary index entry of a new key (`layout.index_entry`)."""
        entry = index_entry(path, has_variables, tokens)
        if entry is not None:
            if entry[0] == "vx":
                self.txn.put(entry[1], key, db=self.vx, dupdata=True)
                self.vx_changes += 1
            else:
                self.txn.put(entry[1], b"", db=self.rev)

    def _count(self, path: bytes, tokens: list[bytes] | None, count: int, new: bool) -> None:
        self.changed = True
        self.version += 1
        hk = head_key(tokens) if tokens is not None else path_head_key(path)
        d = self.head_delta.get(hk)
        if d is None:
            d = self.head_delta[hk] = [0, 0]
        d[1] += count
        self.total_delta += count
        if new:
            d[0] += 1
            self.distinct_delta += 1

    def remove_path(self, path: bytes, count: int = 1, names: list[str] | bool | None = True) -> int:
        """Remove up to `count` copies; returns how many were removed.

        `names`: remove only the atom with these variable names (None or [] for none), as hyperon
        removes; True (the default) takes copies whatever their names, the last added first."""
        key = storage_key(path)
        txn = self.txn
        self._variants.pop(key, None)
        raw = txn.get(key, db=self.atoms)
        if raw is None:
            return 0
        rec = Record(key, raw)
        variants = rec.variants
        if names is True:
            picks = list(range(len(variants) - 1, -1, -1))
        else:
            mine = names or None
            picks = [i for i, v in enumerate(variants) if v[0] == mine]
        taken = 0
        gone: list[tuple[list[str] | None, int, int]] = []
        for i in picks:
            if taken >= count:
                break
            vn, vc, vs = variants[i]
            k = min(count - taken, vc)
            taken += k
            variants[i] = (vn, vc - k, vs)
            if k == vc:
                gone.append(variants[i])
        n = taken
        if not n:
            return 0
        if not self._forgot_loads:
            self._forget_loads()
        self.changed = True
        self.version += 1
        hk = path_head_key(rec.path)
        d = self.head_delta.setdefault(hk, [0, 0])
        d[1] -= n
        self.total_delta -= n
        if n == rec.count:
            txn.delete(key, db=self.atoms)
            entry = index_entry(rec.path, rec.names is not None)
            if entry is not None:
                if entry[0] == "vx":
                    txn.delete(entry[1], key, db=self.vx)
                    self.vx_changes += 1
                else:
                    txn.delete(entry[1], db=self.rev)
        else:
            left = [v for v in variants if v[1] > 0]
            txn.put(key, Record.pack_variants(left, rec.path if is_hashed(key) else None), db=self.atoms)
        d[0] -= len(gone)
        self.distinct_delta -= len(gone)
        for vn, _vc, vs in gone:
            self._keep_nodes(rec.path, vn, vs)
        return n

    def _keep_nodes(self, path: bytes, names: list[str] | None, seq: int) -> None:
        """hyperon's trie keeps a node while an atom is below it, placed where its first atom put it: for
        each node of a removed atom that lives on, keep its number unless an older atom is below it; a
        node that died takes its kept number with it (`trieorder`)."""
        txn, atoms, meta = self.txn, self.atoms, self.meta
        tp = TriePath(path, names)
        nums = Numbers(lambda prefix: prefix_items(txn.cursor(db=atoms), prefix), {})
        toks = tp.toks
        # (from its first key of its own on, an operation's, a space's or a Char's, every node is the
        # atom's own: it dies with it)
        for i in range(len(toks) if tp.alone < 0 else tp.alone):
            older = alive = False
            for n, n_seq in enumerate(nums.below(tp, i)):
                alive = True
                if n_seq < seq:
                    older = True
                if older or n >= 8:
                    break
            if not alive:  # this node died, and those after it on the path
                for j in range(i, len(toks)):
                    txn.delete(node_key(toks[:j + 1]), db=meta)
                return
            if not older:
                nk = node_key(toks[:i + 1])
                kept = txn.get(nk, db=meta)
                if kept is None or unpack_value(kept) > seq:
                    txn.put(nk, pack_value(seq), db=meta)

    def _forget_loads(self) -> None:
        """Drop every `LOADED_PREFIX` key: a file loaded before a removal may have lost atoms."""
        self._forgot_loads = True
        cur = self.txn.cursor(db=self.meta)
        while cur.set_range(LOADED_PREFIX) and cur.key().startswith(LOADED_PREFIX):
            cur.delete()

    def note_loaded(self, digest: bytes, read: int, bangs: int) -> None:
        """Record that every atom of the files with this digest is in the space (see `LOADED_PREFIX`)."""
        self.txn.put(LOADED_PREFIX + digest, pack_value([read, bangs]), db=self.meta)

    def clear(self) -> None:
        """Remove every atom (statistics and totals too)."""
        txn = self.txn
        self._variants.clear()
        self._forget_loads()
        cur = txn.cursor(db=self.meta)
        while cur.set_range(NODE_PREFIX) and cur.key().startswith(NODE_PREFIX):
            cur.delete()
        self.changed = True
        self.version += 1
        for db in (self.atoms, self.rev, self.vx, self.heads):
            txn.drop(db, delete=False)
        self.vx_changes += 1
        self.head_delta = {}
        self.total_delta = self.distinct_delta = 0
        for k in (b"atoms", b"distinct"):
            txn.put(k, pack_value(0), db=self.meta)
        txn.put(b"seq", pack_value(FIRST_SEQ), db=self.meta)
        self._seq = FIRST_SEQ

    def finish(self) -> int:
        """Write statistics and bump the generation; returns the new generation."""
        txn = self.txn
        for hk, (dd, dt) in self.head_delta.items():
            raw = txn.get(hk, db=self.heads)
            cur = unpack_value(raw) if raw is not None else [0, 0]
            cur = [cur[0] + dd, cur[1] + dt]
            if cur[0] <= 0:
                txn.delete(hk, db=self.heads)
            else:
                txn.put(hk, pack_value(cur), db=self.heads)
        meta = self.meta
        if self.total_delta or self.distinct_delta:
            txn.put(b"atoms", pack_value(unpack_value(txn.get(b"atoms", db=meta) or b"\x00") + self.total_delta), db=meta)
            txn.put(b"distinct", pack_value(unpack_value(txn.get(b"distinct", db=meta) or b"\x00") + self.distinct_delta),
                    db=meta)
        if self._seq is not None:
            txn.put(b"seq", pack_value(self._seq), db=meta)
        gen = unpack_value(txn.get(b"generation", db=meta) or b"\x00") + 1
        txn.put(b"generation", pack_value(gen), db=meta)
        self.head_delta = {}
        self.total_delta = self.distinct_delta = 0
        return int(gen)


def rebuild_derived(w: Writer, legacy: bool = False) -> None:
    """Recompute `rev`, `vx`, `heads` and the totals from the primary database (in w's transaction);
    `legacy`: its records are in the format before 3 (`Record.legacy`), for migrations."""
    read = Record.legacy if legacy else Record
    txn = w.txn
    w.changed = True
    for db in (w.rev, w.vx, w.heads):
        txn.drop(db, delete=False)
    w.vx_changes += 1
    heads: dict[bytes, list[int]] = {}
    total = distinct = 0
    for key, raw in txn.cursor(db=w.atoms):
        rec = read(key, raw)
        entry = index_entry(rec.path, rec.names is not None)
        if entry is not None:
            if entry[0] == "vx":
                txn.put(entry[1], key, db=w.vx, dupdata=True)
            else:
                txn.put(entry[1], b"", db=w.rev)
        h = heads.setdefault(path_head_key(rec.path), [0, 0])
        n = 1 if rec.more is None else len(rec.more)  # (distinct atoms: each variant is one)
        h[0] += n
        h[1] += rec.count
        total += rec.count
        distinct += n
    for hk, v in heads.items():
        txn.put(hk, pack_value(v), db=w.heads)
    txn.put(b"atoms", pack_value(total), db=w.meta)
    txn.put(b"distinct", pack_value(distinct), db=w.meta)
