"""Running patterns over the stored space: access paths, nested-loop joins, counting, explain.

A pattern is answered from one of three access paths:

* **forward**: the LMDB range of keys starting with the pattern's constant
  prefix (the tokens before its first variable);
* **reverse**: the reverse index, for `(h ... c)` patterns whose constant
  suffix is longer than their constant prefix (`(parent $x P456)`), or when
  the plan found it to return fewer rows;
* plus, always, the few stored atoms that contain variables or were hashed,
  found in `vx` by exact lookups of each prefix of the pattern and a range
  scan, so that two-sided matching never misses a stored rule.

Ground stored keys are matched on their bytes (see `pattern.Compiled`); only
the captured subterms are decoded.  A conjunction `(, p1 ... pn)` runs in the
order `plan.plan_conjunction` chose, as an index nested-loop join.  `count`
decodes nothing: a pattern constrained only by its constant prefix counts
keys (or reads the head statistics), others match on bytes.
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .atoms import Atom, Expression, Float, Integer, Symbol, Variable, equal_as_values, fresh_variable, iter_atoms, number_twins, rebuild
from .bindings import EMPTY_BINDINGS, Bindings, LazyBindings, RowLayout, clear_captures
from .encoding import TEXT_CACHE, decode, literal_token, text_atom
from .env import DAMAGE_ERRORS, begin_read, prefix_items
from .errors import MettaDBError
from .keys import MAX_PLAIN, unreverse_key
from .layout import Record, has_variants, unpack_value
from .pattern import COMMA, ByteProgram, Compiled, byte_program, compiled, conjuncts, template
from .pattern import clear_caches as clear_pattern_caches
from .plan import Plan, Step, View, head_stats, plan_conjunction, plan_pattern
from .store import Store
from .trieorder import NODE_PREFIX, Numbers, TriePath, atom_tokens, ground_permutation, reorder_for, trie_permutation
from .unify import unify

__all__ = ["COMMA", "QueryStats", "clear_caches", "conjuncts", "count", "explain", "met_by_value", "ordered_atoms", "ordered_matches",
           "ordered_matches_in", "ordered_query", "run_query", "stored_by_value", "trie_numbers"]


@dataclass
class QueryStats:
    """Counters of one query run; with a plan, per step as well."""

    keys_visited: int = 0
    rows: int = 0
    #: per step of a conjunction's plan, in plan order (filled by run_query)
    step_rows: list[int] = field(default_factory=list)
    step_keys: list[int] = field(default_factory=list)
    plan: Plan | None = None
    #: "bytes" (rows of captured bytes, `pattern.byte_program`) or "general" (decode and unify per row)
    executor: str = "general"
    #: stored records the byte steps met and handed to the general path (stored variables, hashed keys,
    #: extension tags, records whose value the steps do not read): 0 for plain facts
    general_records: int = 0


_VX_CACHE_MAX = 50_000
#: the largest variable index a write transaction mirrors after its own writes
_VX_DIRTY_MAX = 2_048


def _vx_keys(v: View) -> tuple[list[bytes] | None, frozenset[bytes] | None]:
    """(sorted distinct keys, their set) of the variable index, (None, None) when it is too large to
    mirror or may differ from the committed one (inside this process's write transaction)."""
    if v.vx_dirty:
        # this transaction's writes touched the index: a mirror of its own, kept while it writes
        # nothing more (the writer's cache lives for one version), and only when small, as
        # rebuilding it after every write must stay cheap
        w = v.writer
        if w is None:
            return None, None
        key = ("vx", w.vx_changes)
        got: tuple[list[bytes] | None, frozenset[bytes] | None] | None = v.cache.stats.get(key)
        if got is None:
            if v.txn.stat(v.vx)["entries"] > _VX_DIRTY_MAX:
                got = (None, None)
            else:
                mine = list(v.txn.cursor(db=v.vx).iternext_nodup(keys=True, values=False))
                got = (mine, frozenset(mine))
            v.cache.stats[key] = got
        return got
    c = v.cache.vx
    if c is None:
        keys: list[bytes]
        if v.txn.stat(v.vx)["entries"] > _VX_CACHE_MAX:
            c = (None, None)
        else:
            keys = list(v.txn.cursor(db=v.vx).iternext_nodup(keys=True, values=False))
            c = (keys, frozenset(keys))
        v.cache.vx = c
    return c


class _Run:
    """Per-run state: the view, counters, the variable index mirror, a reusable cursor."""

    __slots__ = ("cursor", "qs", "seqs", "shared", "v", "vxkeys", "vxset")

    def __init__(self, v: View, qs: QueryStats, ordered: bool = False) -> None:
        self.v = v
        self.qs = qs
        self.vxkeys, self.vxset = _vx_keys(v)
        self.cursor: Any = None
        #: ordered runs: the order key of each row, appended just before the row is yielded
        self.seqs: list[Any] | None = [] if ordered else None
        #: a query of one pattern: each stored variable's name -> its fresh variable, one map for all
        #: the atoms the query meets (hyperon's: `$t` of two atoms is one `$t#23`); None in a conjunction
        self.shared: dict[str, Variable] | None = None


def _forward_rows(r: _Run, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    cur = r.cursor
    if cur is None:
        cur = r.v.txn.cursor(db=r.v.atoms)
    else:
        r.cursor = None  # taken: a nested scan of the same run opens its own
    qs = r.qs
    if cur.set_range(prefix):
        for key, raw in cur:
            if not key.startswith(prefix):
                break
            qs.keys_visited += 1
            yield key, raw
    r.cursor = cur  # done with it: the next scan may reuse it


def _reverse_rows(r: _Run, comp: Compiled) -> Iterator[tuple[bytes, bytes]]:
    v = r.v
    qs = r.qs
    cur = v.txn.cursor(db=v.rev)
    get = v.txn.get
    atoms_db = v.atoms
    prefix = comp.rev_prefix
    toks = comp.tokens
    head = toks[0] + toks[1]
    h = len(head)
    lp = len(prefix)
    # the constant suffix in its original order: when the rest of a reverse key is one
    # symbol token, the primary key is head + that token + this (no re-tokenizing)
    tail = b"".join(toks[len(toks) - (comp.rev_tokens - 2):]) if comp.rev_tokens > 2 else b""
    if cur.set_range(prefix):
        for rkey in cur.iternext(values=False):
            if not rkey.startswith(prefix):
                break
            qs.keys_visited += 1
            t = rkey[lp] if len(rkey) > lp else 0
            if t > 0xC0 and len(rkey) == lp + 1 + (t & 0x3F) and rkey[:h] == head:
                key = head + rkey[lp:] + tail
            else:
                key = unreverse_key(rkey)
            raw = get(key, None, atoms_db)
            if raw is not None:
                yield key, raw


def _vx_candidates(r: _Run, comp: Compiled, reverse: bool) -> Iterator[tuple[bytes, bytes]]:
    """Stored atoms with variables or hashed keys whose constant prefix is shorter than the pattern's."""
    keys, keyset = r.vxkeys, r.vxset
    if keyset is not None and not keyset:
        return
    v = r.v
    qs = r.qs
    atoms_db = v.atoms
    vcur = None
    toks = comp.tokens
    pre = b""
    for t in range(comp.fwd_tokens):
        k = b"v" + pre
        if keyset is None or k in keyset:
            if vcur is None:
                vcur = v.txn.cursor(db=v.vx)
            if vcur.set_key(k):
                for key in vcur.iternext_dup(keys=False, values=True):
                    qs.keys_visited += 1
                    raw = v.txn.get(key, db=atoms_db)
                    if raw is not None:
                        yield key, raw
        pre += toks[t]
    if reverse:
        vp = b"v" + comp.fwd_prefix
        if keys is not None:
            i = bisect.bisect_left(keys, vp)
            if i == len(keys) or not keys[i].startswith(vp):
                return
        if vcur is None:
            vcur = v.txn.cursor(db=v.vx)
        if vcur.set_range(vp):
            for vkey, key in vcur:
                if not vkey.startswith(vp):
                    break
                qs.keys_visited += 1
                raw = v.txn.get(key, db=atoms_db)
                if raw is not None:
                    yield key, raw


def _fresh_names(names: list[str], shared: dict[str, Variable] | None = None) -> list[str]:
    if shared is None:
        return [fresh_variable(n).name for n in names]
    out = []
    for n in names:  # (one query's map of names: hyperon's)
        f = shared.get(n)
        if f is None:
            f = shared[n] = fresh_variable(n)
        out.append(f.name)
    return out


def _slow_row(resolved: Atom, key: bytes, raw: bytes, bindings: Bindings, fwd: bytes,
              shared: dict[str, Variable] | None = None) -> tuple[Bindings | None, int]:
    """Decode and unify one stored atom (variables, hashed key or extension tags): (bindings, copies).
    A record of several atoms equal up to variable names (`Record.variants`) unifies as its first
    does, with all their copies (`_slow_copies` splits it where the names matter)."""
    rec = Record(key, raw)
    if len(key) > MAX_PLAIN and not rec.path.startswith(fwd):
        return None, 0
    stored = decode(rec.path, _fresh_names(rec.names, shared) if rec.names else None)
    return unify(resolved, stored, bindings), rec.count


def _use_reverse(comp: Compiled, kind: str | None) -> bool:
    """Reverse when the plan chose it and the resolved pattern has a constant suffix; forward when
    the plan chose that; unplanned, reverse when the constant suffix is longer than the prefix."""
    if comp.rev_tokens <= 2 or kind == "forward":
        return False
    return kind == "reverse" or comp.rev_tokens > comp.fwd_tokens


def _match_one(r: _Run, pattern: Atom, bindings: Bindings, kind: str | None = None,
               comp: Compiled | None = None) -> Iterator[Bindings]:
    """Every match of one pattern under `bindings`; `comp` is the pattern compiled under them
    when the caller has it (the resolved atom is then built only to unify a stored rule).

    In an ordered run (`r.seqs`), the stored atom each match came from (its key and record) is
    appended to `r.seqs` just before the match is yielded; copies of an atom come one after the
    other with it.
    """
    qs = r.qs
    seqs = r.seqs
    resolved: Atom | None = None
    if comp is None:
        resolved = bindings.resolve(pattern) if len(bindings) else pattern
        comp = compiled(resolved)
    if comp.ground and len(comp.key) <= MAX_PLAIN:
        # a ground pattern: one lookup, plus stored atoms with variables that may unify
        raw = r.v.txn.get(comp.key, None, r.v.atoms)
        if raw is not None:
            qs.keys_visited += 1
            t = raw[0]
            if t < 0x80 or 0xCB < t < 0xD0:  # one copy of a ground atom
                qs.rows += 1
                if seqs is not None:
                    seqs.append((comp.key, raw))
                yield bindings
            else:
                okey = (comp.key, raw)
                for _ in range(Record.count_of(comp.key, raw)):
                    qs.rows += 1
                    if seqs is not None:
                        seqs.append(okey)
                    yield bindings
        if r.vxset is not None and not r.vxset:
            return
        for key, raw in _vx_candidates(r, comp, False):
            if resolved is None:
                resolved = bindings.resolve(pattern)
            yield from _slow_copies(r, resolved, key, raw, bindings, comp.fwd_prefix)
        return
    reverse = _use_reverse(comp, kind)
    variables = comp.variables
    nvars = len(variables)
    adopt = Bindings.from_links
    base = bindings.links
    no_vx = r.vxset is not None and not r.vxset
    # An ordered run (the interpreter's) keeps a pattern's rows for this version of the space when all
    # are plain ground atoms: a join's inner step meets the same bound pattern again and again.
    memo: dict[Any, Any] | None = r.v.cache.rows if seqs is not None else None
    if memo is not None:
        ck = (comp.key, reverse)
        got = memo.get(ck)
        if got is not None:
            for okey, values, n in got:
                d = dict(base) if base else {}
                for i in range(nvars):
                    d[variables[i]] = values[i]
                b = adopt(d)
                for _ in range(n):
                    qs.rows += 1
                    seqs.append(okey)  # type: ignore[union-attr]
                    yield b
            return
    kept: list[Any] | None = [] if memo is not None else None
    fwd = comp.fwd_prefix
    head = comp.head
    start = len(head)
    cache_get = TEXT_CACHE.get
    rows = _reverse_rows(r, comp) if reverse else _forward_rows(r, fwd)
    sources = (rows,) if no_vx else (rows, _vx_candidates(r, comp, reverse))
    for source in sources:
        for key, raw in source:
            t = raw[0]
            if t < 0x80 or 0xCB < t < 0xD0 or t == 0x92:
                # a ground atom with a plain key (a bare sequence number: one copy; `[count, seq]`):
                # match on bytes, decode only the captures
                if not key.startswith(head):
                    continue
                caps = comp.match_key(key, start)
                if caps is None:
                    continue
                if caps is not False:
                    values = []
                    for i in range(nvars):
                        c = caps[i]
                        t = c[0]
                        values.append((cache_get(c) or text_atom(c)) if t > 0xC0 and len(c) == 1 + (t & 0x3F)
                                      else decode(c))
                    d = dict(base) if base else {}
                    for i in range(nvars):
                        d[variables[i]] = values[i]
                    b = adopt(d)
                    n = 1 if raw[0] != 0x92 else unpack_value(raw)[0]
                    okey = (key, raw)
                    if kept is not None:
                        kept.append((okey, values, n))
                    for _ in range(n):
                        qs.rows += 1
                        if seqs is not None:
                            seqs.append(okey)
                        yield b
                    continue
            # atoms with variables, hashed keys or extension tags: decode and unify (not kept)
            kept = None
            if resolved is None:
                resolved = bindings.resolve(pattern)
            yield from _slow_copies(r, resolved, key, raw, bindings, fwd)
    if kept is not None and memo is not None and len(kept) <= 256:
        if len(memo) >= 20_000:
            memo.clear()
        memo[ck] = kept


def _slow_copies(r: _Run, resolved: Atom, key: bytes, raw: bytes, bindings: Bindings,
                 prefix: bytes) -> Iterator[Bindings]:
    """`_slow_row`'s match of one stored record, once per copy (each copy's order key beside it in an
    ordered run); a record of several atoms equal up to variable names, once per atom, each with its
    own names and record (`Record.variant_raw`)."""
    if has_variants(raw):
        for one in Record(key, raw).variant_raws(len(key) > MAX_PLAIN):
            yield from _slow_copies(r, resolved, key, one, bindings, prefix)
        return
    b2, n = _slow_row(resolved, key, raw, bindings, prefix, r.shared)
    if b2 is None:
        return
    seqs = r.seqs
    okey = (key, raw)
    for _ in range(n):
        r.qs.rows += 1
        if seqs is not None:
            seqs.append(okey)
        yield b2


def _bound(bindings: Bindings) -> set[Variable]:
    return {x for x in bindings if type(bindings.walk(x)) is not Variable}


def _join(r: _Run, plan: Plan, bindings: Bindings, per_step: bool,
          written: list[int] | None = None) -> Iterator[Bindings]:
    """The nested-loop join of a plan's steps (an explicit stack: no recursion however many).

    In an ordered run (`written`: the written position of each plan step), each result's order key
    is the tuple of the matched atoms ((key, record), copy) in written conjunct order, appended to
    `r.seqs` before the result is yielded (the steps' own entries are taken off it as they come).
    """
    steps = plan.steps
    n = len(steps)
    qs = r.qs
    if per_step:
        qs.step_rows, qs.step_keys = [0] * n, [0] * n
    seqs = r.seqs
    cur: list[Any] = [b""] * n
    # copies of one atom come one after the other with its key: each copy of a step's atom is
    # its own branch of the nested loop (hyperon repeats the inner matches per copy)
    last: list[Any] = [None] * n
    copy: list[int] = [0] * n
    # (the first step is matched as it stands: only the later steps are bound by the rows before them)
    templates = [None, *[template(s.pattern) for s in steps[1:]]]
    stack: list[Iterator[Bindings]] = [_match_one(r, steps[0].pattern, bindings, steps[0].kind)]
    while stack:
        depth = len(stack) - 1
        if per_step:
            k0 = qs.keys_visited
            b = next(stack[-1], None)
            qs.step_keys[depth] += qs.keys_visited - k0
            if b is not None:
                qs.step_rows[depth] += 1
        else:
            b = next(stack[-1], None)
        if b is None:
            stack.pop()
            continue
        if seqs is not None:
            k = seqs.pop()
            if k == last[depth]:
                copy[depth] += 1
            else:
                last[depth], copy[depth] = k, 0
            cur[written[depth]] = (k, copy[depth])  # type: ignore[index]
        if depth + 1 == n:
            if seqs is not None:
                seqs.append(tuple(cur))
            yield b
        else:
            s = steps[depth + 1]
            last[depth + 1] = None
            stack.append(_match_one(r, s.pattern, b, s.kind, templates[depth + 1].bind(b)))  # type: ignore[union-attr]


# ---------------------------------------------------------------- joins on bytes


def _row_count(_lay: RowLayout, _row: tuple[bytes, ...]) -> int:
    return 1


class _ByteRun:
    """What the byte steps of one query share (`pattern.ByteProgram` steps read these attributes):
    cursors, the constants, the final row layout, and the general path for rows bytes cannot take."""

    __slots__ = ("adb", "base", "consts", "cur", "get", "kinds", "lay", "per_step", "prog", "r", "rcur", "ready",
                 "wrap")

    def __init__(self, r: _Run, prog: ByteProgram, kinds: tuple[str | None, ...], base: dict[Variable, Atom],
                 wrap: Any) -> None:
        v = r.v
        self.r = r
        self.prog = prog
        self.kinds = kinds
        self.base = base
        self.cur = v.txn.cursor(db=v.atoms)
        self.rcur = v.txn.cursor(db=v.rev) if prog.reverse else None
        self.get = v.txn.get
        self.adb = v.atoms
        self.consts = prog.consts
        self.lay = RowLayout(prog.names[-1], base, prog.by_name)
        self.wrap = wrap
        #: results the general path produced (rows with stored variables, hashed keys or extension tags)
        self.ready: list[Any] = []
        self.per_step = r.qs.step_rows if len(r.qs.step_rows) == len(kinds) else None

    def done(self, k: int, keys: int, rows: int) -> None:
        """A step finished (or was closed): add its counters."""
        qs = self.r.qs
        qs.keys_visited += keys
        if k == len(self.kinds) - 1:
            qs.rows += rows
        if self.per_step is not None:
            qs.step_keys[k] += keys
            qs.step_rows[k] += rows

    def _bindings(self, k: int, row: tuple[bytes, ...]) -> Bindings:
        names = self.prog.names[k - 1] if k else {}
        return Bindings.from_links(LazyBindings(RowLayout(names, self.base), row).links)

    def _rest(self, k: int, b: Bindings) -> None:
        """The results of steps k.. under `b`, by the general path, into `ready`."""
        pats = self.prog.patterns
        if k == len(pats):
            self.ready.append(b)
            return
        plan = Plan([Step(pats[i], self.kinds[i] or "forward", 0, 0.0) for i in range(k, len(pats))])
        if k == len(pats) - 1 and self.kinds[k] is None:
            self.ready.extend(_match_one(self.r, pats[k], b))
        else:
            self.ready.extend(_join(self.r, plan, b, False))

    def slow(self, k: int, row: tuple[bytes, ...], key: bytes, raw: bytes, prefix: bytes) -> None:
        """Step k met a key bytes cannot match (stored variables, a hashed key, extension tags)."""
        self.r.qs.general_records += 1
        b = self._bindings(k, row)
        b2, n = _slow_row(b.resolve(self.prog.patterns[k]), key, raw, b, prefix, self.r.shared)
        if b2 is not None:
            for _ in range(n):
                self._rest(k + 1, b2)

    def fbrow(self, k: int, row: tuple[bytes, ...]) -> None:
        """Step k cannot run on bytes for this row (a key past the plain size): the general path."""
        self._rest(k, self._bindings(k, row))


def _run_bytes(r: _Run, prog: ByteProgram, kinds: tuple[str | None, ...], base: dict[Variable, Atom]
               ) -> Iterator[list[Bindings]]:
    """Batches of results (the last step hands on the general path's results too)."""
    x = _ByteRun(r, prog, kinds, base, LazyBindings)
    r.qs.executor = "bytes"
    gen: Any = ([()],)
    for fn in prog.fns:
        gen = fn(gen, x)
    return gen  # type: ignore[no-any-return]


def _count_bytes(r: _Run, prog: ByteProgram, kinds: tuple[str | None, ...], base: dict[Variable, Atom]) -> int:
    x = _ByteRun(r, prog, kinds, base, _row_count)
    gen: Any = ([()],)
    for fn in prog.fns:
        gen = fn(gen, x)
    return sum(len(batch) for batch in gen)


def _program(r: _Run, patterns: list[Atom], kinds: tuple[str | None, ...], bindings: Bindings
             ) -> ByteProgram | None:
    """The byte program of the patterns under `bindings` (see `_clear`)."""
    if r.vxkeys is None:
        return None
    links = bindings.links
    pats = tuple(bindings.resolve(p) for p in patterns) if links else tuple(patterns)
    return _clear(r, byte_program(pats, kinds))


def _clear(r: _Run, prog: ByteProgram | None) -> ByteProgram | None:
    """`prog`, unless a stored atom with variables or a hashed key could match one of its steps:
    those are found through `vx` and unified, on the general path (a step is clear when no `vx`
    key and its constant prefix extend one another)."""
    vxkeys = r.vxkeys
    if prog is None or vxkeys is None:
        return None
    if not vxkeys:
        return prog
    if prog.vx_seen is not vxkeys:  # checked once per program and mirror
        prog.vx_seen = vxkeys
        prog.vx_clear = not any(k.startswith(sp, 1) or sp.startswith(k[1:]) for sp in prog.static for k in vxkeys)
    return prog if prog.vx_clear else None


def run_query(space: Store, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS,
              stats: QueryStats | None = None) -> Iterator[Bindings]:
    """Lazily yield Bindings of every match of a pattern or conjunction (in the order the index and
    the plan find them: see `ordered_query` for hyperon's)."""
    qs = stats if stats is not None else QueryStats()
    txn = space.current_txn()
    if txn is not None:  # inside a session's transaction: no context manager per query
        try:
            yield from _rows(_Run(View(space, txn), qs), pattern, bindings, stats is not None)
        except DAMAGE_ERRORS as e:
            raise space.damaged(e) from None
        return
    # `space.read()` without its context manager (a small query pays for every microsecond)
    if space.closed:
        raise MettaDBError(f"{space.path} is closed")
    txn = begin_read(space.env)
    try:
        yield from _rows(_Run(View(space, txn, own=True), qs), pattern, bindings, stats is not None)
    except DAMAGE_ERRORS as e:
        raise space.damaged(e) from None
    finally:
        txn.abort()


# ---------------------------------------------------------------- numbers matched by value
#
# hyperon keys its trie by a hash of each grounded value's serialization, so `2` and `2.0` are two
# keys; a query's number whose own spelling the space has never held is not found by hash and is
# compared with the node's values instead, by value.  So a query's `2.0` finds a stored `2` exactly
# when no stored atom holds `2.0` (hyperon: ever held).


#: keys `_holds_token` reads at most (~0.2 s): a larger space that holds no atom with a query's spelling
#: is taken to hold one, so its queries match numbers as written, as before (README: differences)
HOLDS_SCAN_KEYS = 1_000_000


def _holds_token(v: View, tok: bytes) -> bool:
    """Whether some stored atom holds a number's token: one scan per version of the space, cut short
    at the first holder (a number's token, a tag of 0xC1-0xFF and ASCII text, cannot be a part of
    another token of a plain key: UTF-8 text never holds those tag bytes before an ASCII digit)."""
    memo = v.cache.numbers
    got = memo.get(tok)
    if got is None:
        got = True  # past the budget
        txn, db = v.txn, v.atoms
        for i, key in enumerate(txn.cursor(db=db).iternext(values=False)):
            if tok in key if len(key) <= MAX_PLAIN else tok in Record(key, txn.get(key, db=db) or b"").path:
                break
            if i >= HOLDS_SCAN_KEYS:
                break
        else:
            got = False
        if len(memo) >= 4096:
            memo.clear()
        memo[tok] = got
    return got


#: (variable standing for a query's number, the number, the stored spellings it may meet: None for any
#: of the same value)
_ByValue = list[tuple[Variable, Atom, "frozenset[Atom] | None"]]
_ZEROS = (Integer(0), Float(0.0))


def _holds_number(atom: Atom, bindings: Bindings) -> bool:
    """Whether a pattern under its bindings holds a number (no atom built: most hold none)."""
    bound = len(bindings)
    seen: set[int] = set()  # (values already looked into: a cyclic binding ends)
    stack = [atom]
    while stack:
        a = stack.pop()
        t = type(a)
        if t is Expression:
            for k in a.children:  # type: ignore[attr-defined]
                tk = type(k)
                if tk is Expression:
                    stack.append(k)
                elif tk is Integer or tk is Float:
                    return True
                elif tk is Variable and bound:
                    stack.append(k)
        elif t is Integer or t is Float:
            return True
        elif t is Variable and bound:
            w = bindings.walk(a)
            if type(w) is not Variable and id(w) not in seen:
                seen.add(id(w))
                stack.append(w)
    return False


def _by_value(r: _Run, pattern: Atom, bindings: Bindings) -> tuple[Atom, _ByValue] | None:
    """The pattern with each number hyperon would match by value (see above) made a fresh variable,
    with what each may meet; None when there is none (the common case: no number, or no stored atom
    that another spelling of it would match).

    `0` and `0.0` hash alike in hyperon, so they are one key: while the space holds either, a query's
    `0` or `0.0` meets both (and not `-0.0`)."""
    if not _holds_number(pattern, bindings):
        return None
    resolved = bindings.resolve(pattern) if len(bindings) else pattern
    nums: list[Atom] = []
    for a in iter_atoms(resolved):
        t = type(a)
        if (t is Integer or t is Float) and a not in nums:
            nums.append(a)
    if not nums:
        return None
    parts = conjuncts(resolved) or [resolved]
    v = r.v
    out: _ByValue = []
    for c in nums:
        twins = number_twins(c)
        if not twins:
            continue
        with_c = [p for p in parts if any(x == c for x in iter_atoms(p))]
        key = _ZEROS if c in _ZEROS else (c,)
        others = [t for t in twins if t not in key]
        if any(_holds_token(v, literal_token(k)) for k in key):
            # held as written: only its own key, which for a zero is both spellings
            if len(key) > 1 and any(_count_one(r, _swap(p, c, k), EMPTY_BINDINGS) for k in key if k != c
                                    for p in with_c):
                out.append((fresh_variable("n"), c, frozenset(key)))
            continue
        # cheap first: does another spelling match where this one stands? (counted, nothing decoded)
        if not any(_count_one(r, _swap(p, c, t), EMPTY_BINDINGS) for t in twins for p in with_c):
            continue
        if any(_holds_token(v, literal_token(t)) for t in others + [t for t in twins if t in key]):
            out.append((fresh_variable("n"), c, None))
    if not out:
        return None
    return _swap_all(resolved, {c: var for var, c, _ in out}), out


def met_by_value(space: Store, call: Atom, head: Atom) -> bool:
    """Whether a stored atom (a rule's head) that unified with a query (a call) met one of its numbers
    only by value, in another spelling, while the space holds the query's own spelling: hyperon's
    index then does not find the stored atom (see `_holds_token`)."""
    stack = [(call, head)]
    pairs: list[Atom] = []
    while stack:
        x, y = stack.pop()
        tx, ty = type(x), type(y)
        if tx is Expression and ty is Expression:
            stack.extend(zip(x.children, y.children))  # type: ignore[attr-defined]
        elif (tx is Integer or tx is Float) and (ty is Integer or ty is Float) and x != y \
                and not (x in _ZEROS and y in _ZEROS):  # (one key in hyperon)
            pairs.extend(_ZEROS if x in _ZEROS else (x,))
    if not pairs:
        return False
    with space.read() as txn:  # (the thread's open transaction, if it has one)
        v = View(space, txn)
        return any(_holds_token(v, literal_token(x)) for x in pairs)


def stored_by_value(space: Store, atom: Atom) -> Atom | None:
    """The stored atom hyperon's `remove-atom` takes for a ground atom the space does not hold as
    written: one equal to it by value (a number in another spelling) where no stored atom holds the
    number's own spelling (see `_holds_token`); None if there is none."""
    if not atom.is_ground:
        return None
    with space.read() as txn:
        r = _Run(View(space, txn), QueryStats())
        gen = _by_value(r, atom, EMPTY_BINDINGS)
        if gen is None:
            return None
        general = gen[0]
        for b in _flat(_run(r, general, EMPTY_BINDINGS, False)):
            inst: Atom = b.resolve(general)
            if inst.is_ground and equal_as_values(inst, atom):
                return inst
    return None


def _swap(atom: Atom, old: Atom, new: Atom) -> Atom:
    return _swap_all(atom, {old: new})


def _swap_all(atom: Atom, subst: dict[Atom, Atom]) -> Atom:
    """The atom with the leaves equal (as atoms) to a key of `subst` replaced (no recursion: patterns
    may be thousands of levels deep)."""
    if type(atom) is not Expression:
        return subst.get(atom, atom)
    return rebuild(atom, lambda a: subst.get(a, a), lambda _e, kids: Expression(tuple(kids)))  # type: ignore[no-any-return]


def _bind_numbers(rows: Iterator[Bindings] | list[Bindings], numbers: _ByValue) -> Iterator[tuple[int, Bindings]]:
    """(index, bindings) of the rows of a generalized pattern whose variables unify with their numbers
    (a stored number of the same value, or a stored variable, which is bound to the number)."""
    for i, b in enumerate(rows):
        got: Bindings | None = b
        for var, c, allowed in numbers:
            if allowed is not None:
                val = got.resolve(var)  # type: ignore[union-attr]
                if type(val) is not Variable and val not in allowed:
                    got = None
                    break
            got = unify(var, c, got)  # type: ignore[arg-type]
            if got is None:
                break
        if got is not None:
            yield i, got


def _flat(run: tuple[bool, Iterator[Any]]) -> Iterator[Bindings]:
    """The rows `_run` gives, batches or not, one by one."""
    batched, it = run
    return itertools.chain.from_iterable(it) if batched else it


def _one_pattern(pattern: Atom) -> bool:
    """Not a conjunction (as `conjuncts` tells, without its call of `Symbol.__eq__`: run per query)."""
    if type(pattern) is not Expression or not pattern.children:
        return True
    head = pattern.children[0]
    return type(head) is not Symbol or head.name != ","


def _rows(r: _Run, pattern: Atom, bindings: Bindings, per_step: bool) -> Iterator[Bindings]:
    """`run_query`'s rows (numbers matched by value where hyperon would)."""
    if _one_pattern(pattern):
        r.shared = {}
    gen = _by_value(r, pattern, bindings)
    return _flat(_run(r, pattern, bindings, per_step)) if gen is None else _rows_by_value(r, gen, bindings, per_step)


def _rows_by_value(r: _Run, gen: tuple[Atom, _ByValue], bindings: Bindings,
                   per_step: bool) -> Iterator[Bindings]:
    """`run_query`'s rows when numbers are matched by value (`_by_value`)."""
    general, numbers = gen
    for _, b in _bind_numbers(_flat(_run(r, general, bindings, per_step)), numbers):
        yield b


def ordered_query(space: Store, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS) -> list[Bindings]:
    """Every match, in hyperon's order: the order its trie of the stored atoms' tokens gives
    (`trieorder`); a conjunction's in nested-loop order over the conjuncts as written, each
    conjunct's matches in the trie's order for the conjunct as the earlier ones instantiate it,
    while the planner still joins in its own order.  Copies of an atom come together; in a
    conjunction each copy is its own branch of the nested loop, as in hyperon.

    Ordered runs take the general path (the matched atoms beside the rows); the byte steps carry
    no records (see docs/NOTES.md)."""
    return _ordered(space, pattern, bindings, None)


def ordered_matches(space: Store, pattern: Atom) -> list[tuple[Bindings, TriePath]]:
    """`ordered_query` of one pattern (not a conjunction), each match with the trie path of the stored
    atom it came from (for `trieorder.reorder_for`)."""
    paths: list[TriePath] = []
    rows = _ordered(space, pattern, EMPTY_BINDINGS, paths)
    return list(zip(rows, paths, strict=True))


def ordered_atoms(space: Store) -> list[Atom]:
    """Every stored atom (each copy) in hyperon's order, as `get-atoms` lists a space; variables keep
    their names."""
    return [decode(p.path, p.names or None) for _, p in ordered_matches(space, Variable("x"))]


#: per store: (write transaction, (writer version, slot), its view) of the last ordered query in one
_VIEWS: weakref.WeakKeyDictionary[Store, tuple[Any, tuple[int, int], View]] = weakref.WeakKeyDictionary()


def _writing_view(space: Store, txn: Any) -> View:
    """A view of the thread's open transaction; the same view again while a writer's transaction has
    written nothing since (the interpreter queries a run's transaction thousands of times)."""
    w = space.current_writer()
    if w is None or w.txn is not txn:
        return View(space, txn)
    key = (w.version, space.slot)
    got = _VIEWS.get(space)
    if got is not None and got[0] is txn and got[1] == key:
        return got[2]
    v = View(space, txn)
    _VIEWS[space] = (txn, key, v)
    return v


def _ordered(space: Store, pattern: Atom, bindings: Bindings, paths: list[TriePath] | None) -> list[Bindings]:
    txn = space.current_txn()
    try:
        if txn is not None:
            return _ordered_run(_Run(_writing_view(space, txn), QueryStats(), True), pattern, bindings, paths)
        if space.closed:
            raise MettaDBError(f"{space.path} is closed")
        txn = begin_read(space.env)
        try:
            return _ordered_run(_Run(View(space, txn, own=True), QueryStats(), True), pattern, bindings, paths)
        finally:
            txn.abort()
    except DAMAGE_ERRORS as e:
        raise space.damaged(e) from None


def _ordered_run(r: _Run, pattern: Atom, bindings: Bindings, paths: list[TriePath] | None) -> list[Bindings]:
    if _one_pattern(pattern):
        r.shared = {}
    gen = _by_value(r, pattern, bindings)
    if gen is None:
        return _in_trie_order(r, pattern, bindings, list(_run(r, pattern, bindings, False)[1]), paths)
    # numbers matched by value: the pattern with variables in their place, then each row's variable
    # unified with its number; a single pattern's rows then in the order for the numbers as tokens
    # (a stored number of the same value where the query's own would be: before the stored variables)
    general, numbers = gen
    single = conjuncts(general) is None
    mine: list[TriePath] | None = [] if single else None
    rows = _in_trie_order(r, general, bindings, list(_run(r, general, bindings, False)[1]), mine)
    kept = list(_bind_numbers(rows, numbers))
    if mine is None:
        return [b for _, b in kept]
    kpaths = [mine[i] for i, _ in kept]
    perm = reorder_for(kpaths, atom_tokens(bindings.resolve(pattern) if len(bindings) else pattern))
    if paths is not None:
        paths.extend(kpaths[j] for j in perm)
    return [kept[j][1] for j in perm]


_READS = "reads"


class _TrieReads:
    """The reads `trieorder.Numbers` makes, from the snapshot of the query at hand."""

    __slots__ = ("atoms", "meta", "scur", "txn")

    def __init__(self) -> None:
        self.txn: Any = None
        self.atoms: Any = None
        self.meta: Any = None
        self.scur: Any = None  # (scans run one at a time: each starts with its own seek)

    def scan(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        if self.scur is None:
            self.scur = self.txn.cursor(db=self.atoms)
        return prefix_items(self.scur, prefix)

    def any_kept(self) -> bool:
        c = self.txn.cursor(db=self.meta)
        return bool(c.set_range(NODE_PREFIX) and c.key().startswith(NODE_PREFIX))

    def kept(self, nk: bytes) -> int | None:
        raw = self.txn.get(nk, None, self.meta)
        return None if raw is None else int(unpack_value(raw))


def _trie_path(memo: dict[Any, Any], key: bytes, raw: bytes) -> TriePath:
    """The trie path of a stored atom (its key and record: one variant's), kept in `memo`."""
    t = raw[0]
    if t < 0x80 or 0xCB < t < 0xD0 or t == 0x92:
        p = TriePath(key, None, Record.seq_of(key, raw))
    else:
        rec = Record(key, raw)
        p = TriePath(rec.path, rec.names, rec.seq)
    memo[(key, raw)] = p
    return p


def _ground_order(entries: list[tuple[bytes, bytes]], numbers: Numbers) -> list[int] | None:
    """`trieorder.ground_permutation` of stored atoms (key, record) when all are ground with plain keys."""
    for key, raw in entries:
        t = raw[0]
        if not (t < 0x80 or 0xCB < t < 0xD0 or t == 0x92) or len(key) > MAX_PLAIN:
            return None
    return ground_permutation([e[0] for e in entries], [Record.seq_of(*e) for e in entries], numbers.of_prefix)


def _in_trie_order(r: _Run, pattern: Atom, bindings: Bindings, rows: list[Bindings],
                   want: list[TriePath] | None) -> list[Bindings]:
    """`rows` in hyperon's order; `want` (a single pattern only) gets each row's trie path."""
    entries: list[Any] = r.seqs or []
    if len(rows) < 2 and want is None:
        return rows
    v = r.v
    memo = v.cache.trie
    if len(memo) > 100_000:
        memo.clear()
    rk = (_READS, threading.get_ident())  # (each thread reads its own snapshot)
    got = memo.get(rk)
    if got is None:
        reads = _TrieReads()
        reads.txn, reads.meta = v.txn, v.meta
        # (a space where no node outlived its first atom keeps no numbers: none to look for)
        got = memo[rk] = (reads, Numbers(reads.scan, memo, reads.kept if reads.any_kept() else None))
    reads, numbers = got
    reads.txn, reads.atoms, reads.meta, reads.scur = v.txn, v.atoms, v.meta, None

    plain = numbers.kept is None  # (no node outlived its first atom: plain keys are ordered from their bytes)
    parts = conjuncts(pattern)
    if parts is None and plain and want is None:
        perm = _ground_order(entries, numbers)
        if perm is not None:
            return [rows[i] for i in perm]

    def query_tokens(q: Atom) -> list[Any]:
        got: list[Any] | None = memo.get(q)
        if got is None:
            got = memo[q] = atom_tokens(q)
        return got

    def path_of(entry: tuple[bytes, bytes]) -> TriePath:
        p: TriePath | None = memo.get(entry)  # (variants share a key: the record tells them apart)
        return p if p is not None else _trie_path(memo, *entry)

    if parts is None:
        tps = [path_of(e) for e in entries]
        perm = trie_permutation([p.toks for p in tps],
                                lambda: query_tokens(bindings.resolve(pattern) if len(bindings) else pattern),
                                lambda i, d: numbers.of(tps[i], d))
        if want is not None:
            want.extend(tps[i] for i in perm)
        return [rows[i] for i in perm]
    if want is not None:
        raise ValueError("ordered_matches takes one pattern, not a conjunction")
    if not parts:
        return rows
    # a conjunction: order by the first conjunct's matches, then within each by the second's, ...
    out: list[int] = []
    stack: list[tuple[list[int], int]] = [(list(range(len(rows))), 0)]
    while stack:
        group, c = stack.pop()
        if c == len(parts) or len(group) < 2:
            out.extend(group)
            continue
        firsts: dict[Any, list[int]] = {}
        for i in group:
            firsts.setdefault(entries[i][c], []).append(i)
        keys = list(firsts)
        if len(keys) > 1:
            perm = _ground_order([k[0] for k in keys], numbers) if plain else None
            if perm is None:  # (stored variables or operations: the trie tokens)

                def instantiated(i0: int = group[0], c: int = c) -> list[Any]:
                    """The conjunct as the earlier ones instantiate it (hyperon queries that): the earlier
                    conjuncts matched again with the atoms this row took (later ones may bind more)."""
                    b = bindings
                    for k in range(c):
                        key, raw = entries[i0][k][0]
                        got, _n = _slow_row(b.resolve(parts[k]), key, raw, b, b"")
                        if got is None:  # (cannot be: the row matched them)
                            return query_tokens(rows[i0].resolve(parts[c]))
                        b = got
                    return query_tokens(b.resolve(parts[c]))

                kps = [path_of(k[0]) for k in keys]
                perm = trie_permutation([p.toks for p in kps], instantiated,
                                        lambda i, d, kps=kps: numbers.of(kps[i], d))  # type: ignore[misc]
            keys = [keys[i] for i in perm]
        for k in reversed(keys):
            stack.append((firsts[k], c + 1))
    return [rows[i] for i in out]


def _run(r: _Run, pattern: Atom, bindings: Bindings, per_step: bool) -> tuple[bool, Iterator[Any]]:
    """(True, batches of results) from the byte steps, or (False, results) from the general path
    (always in an ordered run: `r.seqs`)."""
    v = r.v
    qs = r.qs
    ordered = r.seqs is not None
    parts = conjuncts(pattern)
    if parts is None:
        prog = None if ordered else _program(r, [pattern], (None,), bindings)
        if prog is not None:
            return True, _run_bytes(r, prog, (None,), bindings.links)
        return False, _match_one(r, pattern, bindings)
    if not parts:
        qs.rows += 1
        if ordered:
            r.seqs.append(())  # type: ignore[union-attr]
        return False, iter((bindings,))
    if ordered or r.vxkeys is None:
        # an ordered run, or no mirror of the variable index (a write transaction's large index): the general path
        plan = qs.plan = plan_conjunction(v, parts, _bound(bindings))
        return False, _join(r, plan, bindings, per_step, [s.written for s in plan.steps] if ordered else None)
    if not bindings.links:  # the plan and program of this very conjunction, once per version of the space
        key = ("run", pattern)
        got = v.cache.plans.get(key)
        if got is None:
            if len(v.cache.plans) >= 10_000:
                v.cache.plans.clear()
            plan = plan_conjunction(v, parts, set())
            kinds = tuple(s.kind for s in plan.steps)
            got = v.cache.plans[key] = (plan, kinds, byte_program(tuple(s.pattern for s in plan.steps), kinds))
        plan, kinds, prog = got
        prog = _clear(r, prog)
    else:
        plan = plan_conjunction(v, parts, _bound(bindings))
        kinds = tuple(s.kind for s in plan.steps)
        prog = _program(r, [s.pattern for s in plan.steps], kinds, bindings)
    qs.plan = plan
    if prog is not None:
        if per_step:
            n = len(plan.steps)
            qs.step_rows, qs.step_keys = [0] * n, [0] * n
        return True, _run_bytes(r, prog, kinds, bindings.links)
    return False, _join(r, plan, bindings, per_step)


# ---------------------------------------------------------------- counting


def _count_one(r: _Run, pattern: Atom, bindings: Bindings, kind: str | None = None) -> int:
    """Matches of one pattern under `bindings`, decoding only atoms with variables or extension tags."""
    resolved = bindings.resolve(pattern) if bindings else pattern
    comp = compiled(resolved)
    v = r.v
    if comp.ground and len(comp.key) <= MAX_PLAIN:
        raw = v.txn.get(comp.key, None, v.atoms)
        n = Record.count_of(comp.key, raw) if raw is not None else 0
        return n + _count_slow(r, comp, resolved, bindings, False)
    reverse = _use_reverse(comp, kind)
    n = 0
    if comp.prefix_only and not reverse:
        toks = comp.tokens
        if (not v.writing and comp.fwd_tokens == 2 and len(toks) == toks[0][0] + 1 and toks[1][0] > 0xC0
                and toks[0][0] < 0x40):
            # exactly `(h $a $b ..)`: the statistics count every atom under the head
            n = head_stats(v, comp.fwd_prefix)[1]
            return n + _count_slow(r, comp, resolved, bindings, False)
        # every stored atom under the prefix matches: count copies, decode nothing
        prefix = comp.fwd_prefix
        cur = v.txn.cursor(db=v.atoms)
        if cur.set_range(prefix):
            for key, raw in cur:
                if not key.startswith(prefix):
                    break
                t = raw[0]
                n += 1 if t < 0x80 or 0xCB < t < 0xD0 else Record.count_of(key, raw)
        return n + _count_slow(r, comp, resolved, bindings, False)
    head = comp.head
    start = len(head)
    match = comp.match_key
    for key, raw in (_reverse_rows(r, comp) if reverse else _forward_rows(r, comp.fwd_prefix)):
        t = raw[0]
        if t < 0x80 or 0xCB < t < 0xD0 or t == 0x92:
            if not key.startswith(head):
                continue
            caps = match(key, start)
            if caps is None:
                continue
            if caps is not False:
                n += 1 if t != 0x92 else Record.count_of(key, raw)
                continue
        b2, c = _slow_row(resolved, key, raw, bindings, comp.fwd_prefix)
        if b2 is not None:
            n += c
    return n + _count_slow(r, comp, resolved, bindings, reverse)


def _count_slow(r: _Run, comp: Compiled, resolved: Atom, bindings: Bindings, reverse: bool) -> int:
    n = 0
    for key, raw in _vx_candidates(r, comp, reverse):
        b2, c = _slow_row(resolved, key, raw, bindings, comp.fwd_prefix)
        if b2 is not None:
            n += c
    return n


def count(space: Store, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS) -> int:
    """How many results `run_query` would yield, without building them."""
    with space.read() as txn:
        v = View(space, txn)
        r = _Run(v, QueryStats())
        gen = _by_value(r, pattern, bindings)
        if gen is not None:  # numbers matched by value: the rows themselves
            return sum(1 for _ in _rows_by_value(r, gen, bindings, False))
        parts = conjuncts(pattern)
        if parts is None:
            return _count_one(r, pattern, bindings)
        if not parts:
            return 1
        plan = plan_conjunction(v, parts, _bound(bindings))
        if len(plan.steps) == 1:
            return _count_one(r, plan.steps[0].pattern, bindings, plan.steps[0].kind)
        kinds = tuple(s.kind for s in plan.steps)
        prog = _program(r, [s.pattern for s in plan.steps], kinds, bindings)
        if prog is not None:
            return _count_bytes(r, prog, kinds, bindings.links)
        # join all steps but the last; count the last one's matches per row
        last = plan.steps[-1]
        head = Plan(plan.steps[:-1])
        return sum(_count_one(r, last.pattern, b, last.kind) for b in _join(r, head, bindings, False))


# ---------------------------------------------------------------- explain


def explain(space: Store, pattern: Atom, analyze: bool = False) -> dict[str, Any]:
    """The plan a query would run with its estimates, without running it.

    With `analyze`, the query runs too and each step shows its actual rows and keys visited.
    """
    parts = conjuncts(pattern)
    t0 = time.perf_counter()
    with space.read() as txn:
        v = View(space, txn)
        if parts is None:
            plan = plan_pattern(v, pattern)
        elif parts:
            plan = plan_conjunction(v, parts)
        else:
            plan = Plan([])
    planning = time.perf_counter() - t0
    out: dict[str, Any] = {
        "pattern": str(pattern),
        "connected": plan.connected,
        "estimated_rows": round(plan.estimated_rows, 1),
        "planning_ms": round(planning * 1e3, 3),
        "steps": [
            {"pattern": str(s.pattern), "access": s.describe(), "kind": s.kind,
             "estimated_rows": round(s.estimate, 1), "connected": s.connected}
            for s in plan.steps
        ],
    }
    if not analyze:
        return out
    qs = QueryStats()
    t0 = time.perf_counter()
    rows = sum(1 for _ in run_query(space, pattern, EMPTY_BINDINGS, qs))
    out["seconds"] = round(time.perf_counter() - t0, 6)
    out["rows"] = rows
    out["keys_visited"] = qs.keys_visited
    out["executor"] = qs.executor
    out["general_records"] = qs.general_records
    if parts:
        for s, n, k in zip(out["steps"], qs.step_rows, qs.step_keys):
            s["actual_rows"], s["keys_visited"] = n, k
    elif out["steps"]:
        out["steps"][0]["actual_rows"], out["steps"][0]["keys_visited"] = rows, qs.keys_visited
    return out


def clear_caches() -> None:
    """Forget compiled patterns and decoded captures (benchmarks start cold with it); plans and mirrors
    follow the generation."""
    clear_pattern_caches()
    clear_captures()


# ---------------------------------------------------------------------- beside a session overlay
def ordered_matches_in(space: Store, pattern: Atom, bindings: Bindings) -> list[tuple[Bindings, TriePath]]:
    """`ordered_matches` of one pattern under `bindings` (the rows extend them)."""
    paths: list[TriePath] = []
    rows = _ordered(space, pattern, bindings, paths)
    return list(zip(rows, paths, strict=True))


def trie_numbers(space: Store) -> Numbers:
    """The creation numbers of the stored trie's nodes (`trieorder.Numbers`), read from the thread's
    open snapshot (a write transaction or `space.pinned()`); valid while it stays open."""
    txn = space.current_txn()
    if txn is None:
        raise MettaDBError("trie_numbers needs an open snapshot (space.pinned())")
    v = _writing_view(space, txn)
    reads = _TrieReads()
    reads.txn, reads.atoms, reads.meta = v.txn, v.atoms, v.meta
    return Numbers(reads.scan, {}, reads.kept if reads.any_kept() else None)
