"""Join planning: row estimates from the space's statistics, and connected join orders.

A pattern's rows are estimated for the access path it will run on once the
variables bound by earlier steps are known:

* a pattern that is ground by then is one lookup;
* a forward scan of `(h c1 .. ck $v ..)` returns, on average, the keys under
  `(h` divided by the distinct values of its first k argument tokens;
* a reverse scan (constant suffix) likewise, over the reverse index;
* `(h $a ..)` with no constant argument returns the atoms under `h`.

The per-head counts are the `heads` statistics the space keeps.  The mean
fan-out of a k-token group is measured once per head, direction and k and per
generation of the space: a skip scan counts the distinct groups exactly when
there are few, else a few probes spread over the head's key range count group
sizes.  A conjunction is ordered greedily: among the patterns that share a
variable with those already chosen (or have none), the one with the fewest
estimated rows next.  A cross product happens only when the conjunction has
no connected order at all.  Plans are cached per query shape (constants
abstracted) and generation.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .atoms import Atom, Variable
from .encoding import split_tokens
from .layout import is_reversible, unpack_value
from .pattern import Compiled, compiled, const_run
from .store import Store

if TYPE_CHECKING:
    from .env import Txn

__all__ = ["Plan", "SpaceCache", "Step", "View", "estimate", "head_stats", "plan_conjunction", "plan_pattern"]


class SpaceCache:
    """What the query layer remembers about one store at one generation and slot: plans,
    statistics, the variable index's keys.  Replaced as soon as a read sees another version."""

    __slots__ = ("generation", "numbers", "plans", "rows", "slot", "stats", "trie", "txn_id", "vx")

    def __init__(self, generation: bytes | None, slot: int, txn_id: int = -1) -> None:
        self.generation = generation
        self.slot = slot
        #: the id of the last read snapshot that found this version (the same id: the same data)
        self.txn_id = txn_id
        self.plans: dict[Any, Any] = {}
        self.stats: dict[Any, Any] = {}
        #: for hyperon's order (`trieorder`): creation numbers of trie nodes (by node), trie paths of stored
        #: atoms (by key) and of queries (by atom)
        self.trie: dict[Any, Any] = {}
        #: (sorted keys, their set) of the variable index, or (None, None) when too large to mirror
        self.vx: tuple[list[bytes] | None, frozenset[bytes] | None] | None = None
        #: a number's token -> whether some stored atom holds it (`query`'s matching of numbers by value)
        self.numbers: dict[bytes, bool] = {}
        #: the query layer's rows of a compiled pattern (by its key and access path) in an ordered run
        self.rows: dict[Any, Any] = {}


_CACHES: weakref.WeakKeyDictionary[Store, SpaceCache] = weakref.WeakKeyDictionary()
#: per store: the cache of the version a write transaction of this process is building
_WRITING: weakref.WeakKeyDictionary[Store, tuple[tuple[int, int], SpaceCache]] = weakref.WeakKeyDictionary()


class View:
    """One snapshot of a store as the query layer reads it: the transaction, its tables, its cache."""

    __slots__ = ("atoms", "cache", "heads", "meta", "rev", "txn", "vx", "vx_dirty", "writer", "writing")

    def __init__(self, store: Store, txn: Txn, own: bool = False) -> None:
        """`own`: a read snapshot the caller has just opened for this view (so this thread has no write
        transaction open), its slot not yet synced: a snapshot the cache already knows needs no read."""
        self.txn = txn
        self.meta = meta = store.meta_db
        if own:
            self.writing = self.vx_dirty = False
            self.writer = None
            tid = txn.id()
            c = _CACHES.get(store)
            if c is not None and c.txn_id == tid:  # the same snapshot as the cache's: the same slot and generation
                dbs = store.slot_dbs(c.slot)
                if dbs is not None:
                    self.cache = c
                    self.atoms, self.rev, self.vx, self.heads = dbs.atoms, dbs.rev, dbs.vx, dbs.heads
                    return
            store.sync_slot(txn)
            w = None
        else:
            w = store.current_writer()
        #: inside this thread's write transaction: the stored statistics lack its writes
        self.writing = w is not None and w.txn is txn
        #: ... which then count from the writer's pending deltas
        self.writer = w if self.writing and w is not None and w.changed else None
        #: ... and its writes touched the variable index: the mirror of the committed one is stale
        self.vx_dirty = self.writing and w is not None and w.vx_changes > 0
        slot = store.slot
        if not self.writing:
            tid = txn.id()
            c = _CACHES.get(store)
            if c is None or c.txn_id != tid or c.slot != slot:
                gen = txn.get(b"generation", db=meta)
                if c is None or c.generation != gen or c.slot != slot:
                    c = _CACHES[store] = SpaceCache(gen, slot)
                c.txn_id = tid
            self.cache = c
        elif self.writer is not None:
            gen = txn.get(b"generation", db=meta)
            # plans and statistics of this transaction's own version, kept while it writes nothing more
            stamp = (id(self.writer), self.writer.version)
            wc = _WRITING.get(store)
            if wc is None or wc[0] != stamp:
                wc = _WRITING[store] = (stamp, SpaceCache(gen, slot))
            self.cache = wc[1]
        else:
            gen = txn.get(b"generation", db=meta)
            c = _CACHES.get(store)
            if c is None or c.generation != gen or c.slot != slot:
                c = _CACHES[store] = SpaceCache(gen, slot)
            self.cache = c
        dbs = store.dbs
        self.atoms, self.rev, self.vx, self.heads = dbs.atoms, dbs.rev, dbs.vx, dbs.heads

    def distinct(self) -> int:
        """Distinct atoms in the space (for patterns without a head to count under)."""
        n: int | None = self.cache.stats.get("distinct")
        if n is None:
            raw = self.txn.get(b"distinct", db=self.meta)
            n = int(unpack_value(raw)) if raw is not None else 0
            if self.writer is not None:
                n += self.writer.distinct_delta
            self.cache.stats["distinct"] = n
        return n


@dataclass
class Step:
    """One step of a plan: a pattern, how it is read, and its estimated rows per input row."""

    pattern: Atom
    #: "lookup" (ground once bound), "forward", "reverse" or "scan" (no constant prefix)
    kind: str
    const_tokens: int
    estimate: float
    #: shares a variable with earlier steps (or the incoming bindings), or has none
    connected: bool = True
    #: the pattern's position in the conjunction as written (hyperon's nested-loop order)
    written: int = 0

    def describe(self) -> str:
        """A one-line human description."""
        if self.kind == "lookup":
            return "lookup of one ground atom"
        if self.kind == "reverse":
            return f"reverse index, constant suffix of {self.const_tokens} tokens"
        if self.kind == "scan":
            return "full scan (no constant prefix)"
        return f"forward prefix of {self.const_tokens} tokens"


@dataclass
class Plan:
    """A join order with its estimates."""

    steps: list[Step]

    @property
    def connected(self) -> bool:
        """No step after the first is a cross product with the steps before it."""
        return all(s.connected for s in self.steps[1:])

    @property
    def estimated_rows(self) -> float:
        """Estimated results: the product of the steps' rows per input row."""
        n = 1.0
        for s in self.steps:
            n *= s.estimate
        return n


# ---------------------------------------------------------------- statistics

_DISTINCT_SCAN = 128   # distinct groups counted exactly before sampling instead
_PROBES = 16           # probes spread over a head's key range
_PROBE_WALK = 128      # keys walked from each probe


def _head_bucket(toks: Sequence[bytes]) -> bytes | None:
    """The statistics key `arity head` of `(h ...)` with a plain symbol head."""
    if len(toks) > 1 and toks[0][0] < 0x40 and toks[1][0] > 0xC0:
        return toks[0] + toks[1]
    return None


def head_stats(v: View, bucket: bytes) -> tuple[int, int]:
    """[distinct, total] atoms under a head, from the space's statistics (with this thread's pending writes)."""
    key = ("h", bucket)
    s: tuple[int, int] | None = v.cache.stats.get(key)
    if s is None:
        raw = v.txn.get(bucket, db=v.heads)
        d: Any = unpack_value(raw) if raw is not None else (0, 0)
        pending = v.writer.head_delta.get(bucket) if v.writer is not None else None
        if pending is not None:
            d = (d[0] + pending[0], d[1] + pending[1])
        s = v.cache.stats[key] = (int(d[0]), int(d[1]))
    return s


def _group_end(key: bytes, start: int, k: int) -> int:
    """The offset just past `k` tokens of `key` from `start` (the key's end if it is shorter)."""
    pos = start
    n = len(key)
    for _ in range(k):
        if pos >= n:
            return n
        t = key[pos]
        if t > 0xC0:
            pos += 1 + (t & 0x3F)
        elif t < 0x40 or t >= 0x80:
            pos += 1
        else:  # an extension tag: let the tokenizer measure it
            try:
                return start + sum(len(x) for x in split_tokens(key[start:])[:k])
            except Exception:
                return n
    return min(pos, n)


def _succ(prefix: bytes) -> bytes | None:
    """The least byte string greater than every string starting with `prefix` (None: no such)."""
    b = bytearray(prefix)
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return None
    b[-1] += 1
    return bytes(b)


def _fanout(v: View, reverse: bool, bucket: bytes, k: int) -> float:
    """Mean keys per distinct group of `k` argument tokens under a head (forward or reverse index)."""
    key = ("f", reverse, bucket, k)
    got: float | None = v.cache.stats.get(key)
    if got is not None:
        return got
    distinct = head_stats(v, bucket)[0]
    cur = v.txn.cursor(db=v.rev if reverse else v.atoms)
    h = len(bucket)
    groups = 0
    exhausted = False
    if not cur.set_range(bucket):
        exhausted = True
    while not exhausted and groups < _DISTINCT_SCAN:
        kk = cur.key()
        if not kk.startswith(bucket):
            exhausted = True
            break
        g = kk[:_group_end(kk, h, k)]
        groups += 1
        nxt = _succ(g)
        if nxt is None or not cur.set_range(nxt):
            exhausted = True
    if exhausted:  # every group counted: the mean is exact (up to the few atoms with variables)
        out = distinct / groups if groups else 0.0
    else:
        out = min(_probe_groups(cur, bucket, k), distinct / groups)
    out = max(out, 1.0) if distinct else 0.0
    v.cache.stats[key] = out
    return out


def _probe_groups(cur: Any, bucket: bytes, k: int) -> float:
    """Keys per group in short walks from probes spread evenly over the bucket's byte range (a walk
    counts keys, not groups, so a region of many small groups weighs as much as one of a few large)."""
    h = len(bucket)
    if not cur.set_range(bucket):
        return 1.0
    first = cur.key()
    upper = _succ(bucket)
    if upper is None or not cur.set_range(upper):
        cur.last()
    else:
        cur.prev()
    last = cur.key()
    width = 6
    lo = int.from_bytes(first[h:h + width].ljust(width, b"\0"), "big")
    hi = int.from_bytes(last[h:h + width].ljust(width, b"\0"), "big")
    keys = groups = 0
    for i in range(_PROBES):
        at = lo + (hi - lo) * i // _PROBES
        if not cur.set_range(bucket + at.to_bytes(width, "big")):
            continue
        g = b""
        n = 0
        for kk in cur.iternext(values=False):
            if n >= _PROBE_WALK or not kk.startswith(bucket):
                break
            n += 1
            if not g or not kk.startswith(g):
                g = kk[:_group_end(kk, h, k)]
                groups += 1
        keys += n
    return keys / groups if groups else 1.0


def estimate(v: View, comp: Compiled, bound: set[Variable], reverse: bool | None = None) -> tuple[float, str, int]:
    """(rows, access kind, constant tokens) of a pattern once the `bound` variables are known: the
    cheaper of forward and reverse, or the one `reverse` names."""
    tv = comp.token_vars
    toks = comp.tokens
    fc = const_run(tv, bound)
    bucket = _head_bucket(toks)
    if fc == len(toks):
        return _lookup_rows(v, toks, bucket), "lookup", fc
    if bucket is None or fc < 2:
        total = v.distinct()
        n = float(total)
        for _ in range(max(0, fc - 2)):  # no statistics: each constant token beyond a head halves the exponent
            n = n ** 0.5 if n > 1 else n
        return max(n, 1.0 if total else 0.0), "forward" if fc else "scan", fc
    distinct = head_stats(v, bucket)[0]
    best = (float(distinct) if fc == 2 else _fanout(v, False, bucket, fc - 2), "forward", fc)
    if is_reversible(toks) and reverse is not False:
        rc = const_run(tv[:1:-1], bound)
        if rc > 0:
            r = _fanout(v, True, bucket, rc)
            if r < best[0] or reverse:
                best = (r, "reverse", rc + 2)
    return best


def _lookup_rows(v: View, toks: list[bytes], bucket: bytes | None) -> float:
    """The chance that a ground `(h a1 .. an)` is stored: the rows of `(h a1 .. $an)` over the
    distinct values of its last token (at most 1)."""
    if bucket is None or not is_reversible(toks):
        return 1.0
    distinct = head_stats(v, bucket)[0]
    if not distinct:
        return 0.0
    values = distinct / _fanout(v, True, bucket, 1)
    return min(1.0, _fanout(v, False, bucket, len(toks) - 3) / max(values, 1.0))


# ---------------------------------------------------------------- plans


def _shape(c: Compiled) -> tuple[Any, ...]:
    """What planning depends on: the head bucket and which tokens are which variables (constants abstracted)."""
    got = c.shape
    if got is None:
        toks = c.tokens
        got = c.shape = (_head_bucket(toks) or toks[0], tuple(v.name if v is not None else "" for v in c.token_vars))
    return got  # type: ignore[no-any-return]


def _order(v: View, comps: list[Compiled], bound: set[Variable]) -> list[tuple[int, float, str, int, bool]]:
    """(index, estimate, kind, constant tokens, connected) in join order."""
    have = set(bound)
    left = list(range(len(comps)))
    order: list[tuple[int, float, str, int, bool]] = []
    while left:
        linked = [j for j, i in enumerate(left)
                  if not comps[i].variables or any(x in have for x in comps[i].variables)]
        first = not have  # nothing known yet (ground steps bind nothing): any pattern may start
        pool = list(range(len(left))) if first or not linked else linked
        best: tuple[float, int, int, str] | None = None
        for j in pool:
            est, kind, consts = estimate(v, comps[left[j]], have)
            score = (est, -consts, j, kind)
            if best is None or score < best:
                best = score
        assert best is not None
        est, negc, j, kind = best
        i = left.pop(j)
        order.append((i, est, kind, -negc, first or bool(linked)))
        have.update(comps[i].variables)
    return order


def plan_conjunction(v: View, patterns: list[Atom], bound: set[Variable] | None = None) -> Plan:
    """The join order of a conjunction with each step's access and estimate.

    Planned once per shape of the conjunction (constants abstracted) and generation of
    the space.  Ties are broken by the patterns' shapes and encodings, so the order never
    depends on how the user wrote the conjunction.
    """
    comps = sorted(((compiled(p), p, k) for k, p in enumerate(patterns)), key=lambda cp: (_shape(cp[0]), cp[0].key))
    b = bound or set()
    key = ("plan", tuple(_shape(c) for c, _, _ in comps), frozenset(x.name for x in b))
    cached: list[tuple[int, float, str, int, bool]] | None = v.cache.plans.get(key)
    if cached is None:
        if len(v.cache.plans) >= 10_000:
            v.cache.plans.clear()
        cached = v.cache.plans[key] = _order(v, [c for c, _, _ in comps], b)
    return Plan([Step(comps[i][1], kind, consts, est, conn, comps[i][2]) for i, est, kind, consts, conn in cached])


def plan_pattern(v: View, pattern: Atom) -> Plan:
    """The one-step plan of a single pattern, on the access path it runs on unplanned: reverse
    when its constant suffix is longer than its constant prefix."""
    c = compiled(pattern)
    est, kind, consts = estimate(v, c, set(), c.rev_tokens > 2 and c.rev_tokens > c.fwd_tokens)
    return Plan([Step(pattern, kind, consts, est)])
