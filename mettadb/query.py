"""Pattern matching over the stored space: access paths, planning, joins.

A pattern is answered from one of three access paths:

* **forward**: the LMDB range of keys starting with the pattern's constant
  prefix (the tokens before its first variable);
* **reverse**: the reverse index, for `(h ... c)` patterns whose constant
  suffix is longer than their constant prefix (`(parent $x P456)`);
* plus, always, the few stored atoms that contain variables or were hashed,
  found in `vx` by exact lookups of each prefix of the pattern and a range
  scan, so that two-sided matching never misses a stored rule.

A conjunction `(, p1 ... pn)` is ordered greedily by estimated rows (bound
variables count as constants) and evaluated as an index nested-loop join.
The order never depends on how the user wrote the patterns.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from .atoms import Atom, Expression, Symbol, Variable, fresh_variable
from .bindings import EMPTY_BINDINGS, Bindings
from .encoding import TEXT_CACHE, atom_tokens, decode, symbol_token, text_atom, varref_token
from .keys import MAX_PLAIN, const_prefix, unreverse_key
from .layout import Record, unpack_value
from .store import Store
from .unify import unify

if TYPE_CHECKING:
    from .env import Txn

__all__ = ["COMMA", "AccessPath", "QueryStats", "clear_caches", "conjuncts", "explain", "plan_conjunction", "run_query"]

COMMA = Symbol(",")


@dataclass
class QueryStats:
    """Counters of one query run."""

    keys_visited: int = 0
    rows: int = 0
    #: per-run facts, set by run_query: the variable index's keys (`_vx_keys`), a reusable cursor
    vx_keys: Any = None
    cursor: Any = None


@dataclass
class AccessPath:
    """How one pattern is read from the store."""

    kind: str  # "forward" or "reverse"
    prefix: bytes
    prefix_tokens: int
    fwd_prefix: bytes
    fwd_tokens: list[bytes] = field(repr=False, default_factory=list)
    estimate: float = 0.0
    fwd_ntokens: int = 0

    def describe(self) -> str:
        """A one-line human description."""
        if self.kind == "reverse":
            return f"reverse index, constant suffix of {self.prefix_tokens} tokens"
        if self.prefix_tokens == 0:
            return "full scan (no constant prefix)"
        return f"forward prefix of {self.prefix_tokens} tokens"


_CONST, _NEW, _SAME = 0, 1, 2
_ARITY_TOKENS = [bytes((n,)) for n in range(64)]


def _tokens(pattern: Atom) -> Any:
    """`atom_tokens`, with a fast path for flat expressions of symbols and variables."""
    if type(pattern) is Expression and len(pattern.children) < 64:
        kids = pattern.children
        out: list[tuple[bytes, Variable | None]] = [(_ARITY_TOKENS[len(kids)], None)]
        seen: list[Variable] = []
        for k in kids:
            tk = type(k)
            if tk is Symbol:
                out.append((symbol_token(k.name), None))  # type: ignore[attr-defined]
            elif tk is Variable:
                v = cast(Variable, k)
                if v in seen:
                    out.append((varref_token(seen.index(v)), v))
                else:
                    seen.append(v)
                    out.append((b"\xc0", v))
            else:
                return atom_tokens(pattern)
        return out
    return atom_tokens(pattern)


class Compiled:
    """A pattern compiled for byte-level matching against ground keys.

    `steps` walk the key after the forward prefix: a constant run of bytes to
    compare, a new variable capturing one whole subterm, or a repeated variable
    whose subterm must equal an earlier capture.
    """

    __slots__ = ("access", "ground", "head", "key", "steps", "token_vars", "variables")

    def __init__(self, pattern: Atom) -> None:
        toks: list[bytes] = []
        steps: list[tuple[int, Any]] = []
        variables: list[Variable] = []
        pending: list[bytes] = []
        nf = -1
        token_vars: list[Variable | None] = []
        for tok, var in _tokens(pattern):
            toks.append(tok)
            token_vars.append(var)
            if var is None:
                pending.append(tok)
                continue
            if nf < 0:
                nf = len(toks) - 1
                pending = []
            elif pending:
                steps.append((_CONST, b"".join(pending)))
                pending = []
            if var in variables:
                steps.append((_SAME, variables.index(var)))
            else:
                variables.append(var)
                steps.append((_NEW, var))
        if nf < 0:
            nf = len(toks)
        elif pending:
            steps.append((_CONST, b"".join(pending)))
        self.steps = steps
        self.variables = variables
        self.ground = not variables
        self.token_vars = token_vars
        self.key = b"".join(toks)
        self.head = b"".join(toks[:nf])
        fwd, nf = const_prefix(toks[:nf]) if nf else (b"", 0)
        ap = AccessPath("forward", fwd, nf, fwd, toks, 0.0, nf)
        if len(toks) > 3 and 3 <= toks[0][0] < 64 and toks[1][0] > 0xC0 and nf < len(toks):
            rev, nr = const_prefix(toks[:2] + toks[:1:-1])
            if nr > nf:
                ap = AccessPath("reverse", rev, nr, fwd, toks, 0.0, nf)
        self.access = ap

    def match_key(self, path: bytes, start: int) -> list[bytes] | Literal[False] | None:
        """Captured subterm paths for the variables, None for no match, False when the
        path uses an extension tag (decode and unify instead); `path[:start]` is known equal."""
        pos = start
        caps: list[bytes] = []
        n = len(path)
        for kind, data in self.steps:
            if kind == _CONST:
                if not path.startswith(data, pos):
                    return None
                pos += len(data)
                continue
            end = pos
            need = 1
            while need:
                if end >= n:
                    return None
                t = path[end]
                if t > 0xC0:
                    end += 1 + (t & 0x3F)
                    need -= 1
                elif t < 0x40:
                    end += 1
                    need += t - 1
                else:
                    return False  # an extension tag: the caller takes the general path
            if kind == _NEW:
                caps.append(path[pos:end])
            elif path[pos:end] != caps[data]:
                return None
            pos = end
        return caps if pos == n else None


def _is_var_token(t: bytes) -> bool:
    b = t[0]
    return 0x80 <= b <= 0xC0 or b == 0x43


_COMPILED: dict[Atom, Compiled] = {}


def compiled(pattern: Atom) -> Compiled:
    """The compiled form of a pattern (kept in a bounded cache: compiling is pure)."""
    c = _COMPILED.get(pattern)
    if c is None:
        if len(_COMPILED) >= 20_000:
            _COMPILED.clear()
        c = _COMPILED[pattern] = Compiled(pattern)
    return c


def access_path(space: Store, txn: Txn, pattern: Atom) -> AccessPath:
    """Choose forward or reverse for a pattern (already resolved), with a row estimate."""
    base = compiled(pattern).access
    ap = AccessPath(base.kind, base.prefix, base.prefix_tokens, base.fwd_prefix, base.fwd_tokens, 0.0, base.fwd_ntokens)
    ap.estimate = _estimate(space, txn, ap.fwd_tokens, ap.prefix_tokens)
    return ap


def _head_count(space: Store, txn: Txn, toks: list[bytes]) -> int:
    """Distinct atoms under a head, for planning only (a per-space cache, cleared at each commit)."""
    cache = _plan_cache(space, txn)
    if len(toks) > 1 and toks[0][0] < 0x40 and toks[1][0] > 0xC0:
        key = toks[0] + toks[1]
        n = cache.get(key)
        if n is None:
            raw = txn.get(key, db=space.dbs.heads)
            n = cache[key] = int(unpack_value(raw)[0]) if raw is not None else 0
        return n
    n = cache.get(b"")
    if n is None:
        n = cache[b""] = space.distinct or 0
    return n


def _estimate(space: Store, txn: Txn, toks: list[bytes], const_tokens: int) -> float:
    n = _head_count(space, txn, toks)
    extra = max(0, const_tokens - 2)
    est = float(n)
    for _ in range(extra):
        est = est ** 0.5 if est > 1 else est
    return max(est, 1.0 if n else 0.0)


def _fresh_names(names: list[str]) -> list[str]:
    return [fresh_variable(n).name for n in names]


def _candidates(space: Store, txn: Txn, ap: AccessPath, qs: QueryStats) -> Iterator[tuple[bytes, Any]]:
    """(key, raw value) of every stored atom that may unify with the pattern."""
    if ap.kind == "forward":
        yield from _forward_rows(space, txn, ap.prefix, qs)
    else:
        atoms_db = space.dbs.atoms
        cur = txn.cursor(db=space.dbs.rev)
        get = txn.get
        prefix = ap.prefix
        toks = ap.fwd_tokens
        head = toks[0] + toks[1]
        h = len(head)
        lp = len(prefix)
        # the constant suffix in its original order: when the rest of a reverse key is one
        # symbol token, the primary key is head + that token + this (no re-tokenizing)
        tail = b"".join(toks[len(toks) - (ap.prefix_tokens - 2):]) if ap.prefix_tokens > 2 else b""
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
    yield from _vx_candidates(space, txn, ap, qs)


_VX_CACHE_MAX = 50_000
#: per store: the mirror of its variable index's keys (see `_vx_keys`)
_VX_MIRRORS: weakref.WeakKeyDictionary[Store, tuple[Any, ...]] = weakref.WeakKeyDictionary()
#: per store: (generation, slot, planning statistics and plans of that version)
_PLAN_CACHES: weakref.WeakKeyDictionary[Store, tuple[Any, int, dict[Any, Any]]] = weakref.WeakKeyDictionary()


def _plan_cache(space: Store, txn: Txn) -> dict[Any, Any]:
    """Planning statistics and plans, approximate, kept per store for the snapshot's version."""
    gen = txn.get(b"generation", db=space.meta_db)
    c = _PLAN_CACHES.get(space)
    if c is None or c[0] != gen or c[1] != space.slot:
        c = _PLAN_CACHES[space] = (gen, space.slot, {})
    return c[2]


def _vx_keys(space: Store, txn: Txn) -> tuple[Any, ...]:
    """(generation, slot, sorted distinct keys, their set) of the variable index, or keys None when it is
    too large to mirror.  Exact: keyed by the snapshot's generation, and dropped by this process's
    writers whenever they touch the index inside a transaction."""
    gen = txn.get(b"generation", db=space.meta_db)
    c: tuple[Any, ...] | None = _VX_MIRRORS.get(space)
    w = space.current_writer()
    # a writer that changed the index sees only what it computed itself
    tag = (id(w), w.vx_changes) if w is not None and w.vx_changes else None
    if c is not None and c[0] == gen and c[1] == space.slot and c[4] == tag:
        return c
    vx = space.dbs.vx
    if txn.stat(vx)["entries"] > _VX_CACHE_MAX:
        c = (gen, space.slot, None, None, tag)
    else:
        keys = list(txn.cursor(db=vx).iternext_nodup(keys=True, values=False))
        c = (gen, space.slot, keys, frozenset(keys), tag)
    _VX_MIRRORS[space] = c
    return c


def _vx_candidates(space: Store, txn: Txn, ap: AccessPath, qs: QueryStats) -> Iterator[tuple[bytes, Any]]:
    """Stored atoms with variables or hashed keys whose constant prefix is shorter than the pattern's."""
    if qs.vx_keys is None:
        qs.vx_keys = _vx_keys(space, txn)
    keys, keyset = qs.vx_keys[2], qs.vx_keys[3]
    if keyset is not None and not keyset:
        return
    dbs = space.dbs
    atoms_db = dbs.atoms
    vcur = None
    toks = ap.fwd_tokens
    pre = b""
    for t in range(ap.fwd_ntokens):
        k = b"v" + pre
        if keyset is None or k in keyset:
            if vcur is None:
                vcur = txn.cursor(db=dbs.vx)
            if vcur.set_key(k):
                for key in vcur.iternext_dup(keys=False, values=True):
                    qs.keys_visited += 1
                    raw = txn.get(key, db=atoms_db)
                    if raw is not None:
                        yield key, raw
        pre += toks[t]
    if ap.kind == "reverse":
        vp = b"v" + ap.fwd_prefix
        if keys is not None:
            i = bisect.bisect_left(keys, vp)
            if i == len(keys) or not keys[i].startswith(vp):
                return
        if vcur is None:
            vcur = txn.cursor(db=dbs.vx)
        if vcur.set_range(vp):
            for vkey, key in vcur:
                if not vkey.startswith(vp):
                    break
                qs.keys_visited += 1
                raw = txn.get(key, db=atoms_db)
                if raw is not None:
                    yield key, raw


_ONE = b"\x01"


def _forward_rows(space: Store, txn: Txn, prefix: bytes, qs: QueryStats) -> Iterator[tuple[bytes, bytes]]:
    cur = qs.cursor
    if cur is None:
        cur = txn.cursor(db=space.dbs.atoms)
    else:
        qs.cursor = None  # taken: a nested scan of the same run opens its own
    if cur.set_range(prefix):
        for key, raw in cur:
            if not key.startswith(prefix):
                break
            qs.keys_visited += 1
            yield key, raw
    qs.cursor = cur  # done with it: the next scan may reuse it


def _slow_row(space: Store, txn: Txn, resolved: Atom, key: bytes, raw: bytes, bindings: Bindings,
              fwd: bytes, qs: QueryStats) -> Iterator[Bindings]:
    """Decode and unify one stored atom (variables, hashed key or extension tags)."""
    rec = Record(key, raw)
    if len(key) > MAX_PLAIN and not rec.path.startswith(fwd):
        return
    stored = decode(rec.path, _fresh_names(rec.names) if rec.names else None)
    b2 = unify(resolved, stored, bindings)
    if b2 is not None:
        for _ in range(rec.count):
            qs.rows += 1
            yield b2


def _match_one(space: Store, txn: Txn, pattern: Atom, bindings: Bindings,
               qs: QueryStats) -> Iterator[Bindings]:
    resolved = bindings.resolve(pattern) if bindings else pattern
    comp = compiled(resolved)
    if comp.ground and len(comp.key) <= MAX_PLAIN:
        # a ground pattern: one lookup, plus stored atoms with variables that may unify
        raw = txn.get(comp.key, None, space.dbs.atoms)
        if raw is not None:
            qs.keys_visited += 1
            for _ in range(raw[0] if len(raw) == 1 and raw[0] < 0x80 else Record(comp.key, raw).count):
                qs.rows += 1
                yield bindings
        for key, raw in _vx_candidates(space, txn, comp.access, qs):
            yield from _slow_row(space, txn, resolved, key, raw, bindings, comp.access.fwd_prefix, qs)
        return
    ap = comp.access
    fwd = ap.fwd_prefix
    head = comp.head
    start = len(head)
    base = bindings.links
    variables = comp.variables
    nvars = len(variables)
    atom_of_token = text_atom
    cache_get = TEXT_CACHE.get
    make = Bindings.from_links
    for key, raw in _candidates(space, txn, ap, qs):
        if raw == _ONE or (len(raw) == 1 and raw[0] < 0x80):
            # a ground atom with a plain key: match on bytes, decode only the captures
            if not key.startswith(head):
                continue
            caps = comp.match_key(key, start)
            if caps is None:
                continue
            if caps is not False:
                d = dict(base) if base else {}
                for i in range(nvars):
                    c = caps[i]
                    t = c[0]
                    d[variables[i]] = (cache_get(c) or atom_of_token(c)) if t > 0xC0 and len(c) == 1 + (t & 0x3F) \
                        else decode(c)
                b = make(d)
                for _ in range(raw[0]):
                    qs.rows += 1
                    yield b
                continue
        # atoms with variables, hashed keys or extension tags: decode and unify
        yield from _slow_row(space, txn, resolved, key, raw, bindings, fwd, qs)


def _const_run(token_vars: list[Variable | None], bound: set[Variable]) -> int:
    n = 0
    for v in token_vars:
        if v is not None and v not in bound:
            break
        n += 1
    return n


def _estimate_bound(space: Store, txn: Txn, comp: Compiled,
                    bound: set[Variable]) -> tuple[float, int, str]:
    """Estimated rows and constant tokens of the best access path once `bound` variables are known."""
    tv = comp.token_vars
    consts = _const_run(tv, bound)
    toks = comp.access.fwd_tokens
    kind = "forward"
    if len(toks) > 3 and 3 <= toks[0][0] < 64 and toks[1][0] > 0xC0 and consts < len(tv):
        rev = 2 + _const_run(tv[:1:-1], bound)
        if rev > consts:
            consts, kind = rev, "reverse"
    return _estimate(space, txn, toks, consts), consts, kind


def _shape(c: Compiled) -> tuple[Any, ...]:
    """What planning depends on: the head bucket and which tokens are variables (constants abstracted)."""
    toks = c.access.fwd_tokens
    head = toks[0] + toks[1] if len(toks) > 1 and toks[0][0] < 0x40 and toks[1][0] > 0xC0 else toks[0]
    return (head, tuple(v.name if v is not None else "" for v in c.token_vars))


def _greedy(space: Store, txn: Txn, comps: list[Compiled],
            bound: set[Variable]) -> list[tuple[int, float, int, str]]:
    """(index, estimate, constant tokens, kind) in join order: the cheapest pattern next."""
    have = set(bound)
    left = list(range(len(comps)))
    order = []
    while left:
        best = None
        for j, i in enumerate(left):
            est, consts, kind = _estimate_bound(space, txn, comps[i], have)
            score = (est, -consts, j, kind, i)
            if best is None or score < best:
                best = score
        assert best is not None
        left.pop(best[2])
        order.append((best[4], best[0], -best[1], best[3]))
        have.update(comps[best[4]].variables)
    return order


def _sorted_comps(patterns: list[Atom]) -> list[tuple[Compiled, Atom]]:
    # by shape, then by encoding: never by the order the user wrote them in
    comps = [(compiled(p), p) for p in patterns]
    return sorted(comps, key=lambda cp: (_shape(cp[0]), cp[0].key))


def plan_conjunction(space: Store, txn: Txn, patterns: list[Atom],
                     bound: set[Variable] | None = None) -> list[tuple[Atom, AccessPath]]:
    """Greedy join order with each step's access path, as `explain` shows it.

    Ties are broken by the patterns' shapes and encodings, so the order never
    depends on how the user wrote the conjunction.
    """
    comps = _sorted_comps(patterns)
    out = []
    for i, est, consts, kind in _greedy(space, txn, [c for c, _ in comps], set(bound or ())):
        p = comps[i][1]
        ap = access_path(space, txn, p)
        # describe the path as it runs: variables bound by earlier steps are constants then
        ap.estimate, ap.prefix_tokens, ap.kind = est, consts, kind
        out.append((p, ap))
    return out


def conjunction_order(space: Store, txn: Txn, patterns: list[Atom],
                      bound: set[Variable]) -> list[Atom]:
    """The join order, planned once per conjunction shape (constants abstracted) and cached
    with the statistics it came from (cleared at every commit of this process)."""
    comps = _sorted_comps(patterns)
    key = (tuple(_shape(c) for c, _ in comps), frozenset(v.name for v in bound))
    cache = _plan_cache(space, txn)
    order = cache.get(key)
    if order is None:
        order = [i for i, *_ in _greedy(space, txn, [c for c, _ in comps], bound)]
        cache[key] = order
    return [comps[i][1] for i in order]


def conjuncts(pattern: Atom) -> list[Atom] | None:
    """The parts of a conjunction `(, p1 p2 ...)`; None for a single pattern."""
    if type(pattern) is Expression and pattern.children and pattern.children[0] == COMMA:
        return list(pattern.children[1:])
    return None


def run_query(space: Store, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS,
              stats: QueryStats | None = None) -> Iterator[Bindings]:
    """Lazily yield Bindings of every match of a pattern or conjunction."""
    qs = stats if stats is not None else QueryStats()
    qs.cursor = qs.vx_keys = None  # both belong to the transaction opened here
    txn = space.current_txn()
    if txn is not None:  # inside a session's transaction: no context manager per query
        yield from _run(space, txn, pattern, bindings, qs)
        return
    with space.read() as txn:
        yield from _run(space, txn, pattern, bindings, qs)


def _run(space: Store, txn: Txn, pattern: Atom, bindings: Bindings,
         qs: QueryStats) -> Iterator[Bindings]:
    parts = conjuncts(pattern)
    if parts is None:
        yield from _match_one(space, txn, pattern, bindings, qs)
        return
    if not parts:
        yield bindings
        return
    bound = {v for v in bindings if type(bindings.walk(v)) is not Variable}
    order = conjunction_order(space, txn, parts, bound)
    # explicit stack of generators: no recursion however many conjuncts
    stack: list[Iterator[Bindings]] = [_match_one(space, txn, order[0], bindings, qs)]
    while stack:
        b = next(stack[-1], None)
        if b is None:
            stack.pop()
            continue
        if len(stack) == len(order):
            yield b
        else:
            stack.append(_match_one(space, txn, order[len(stack)], b, qs))


def explain(space: Store, pattern: Atom) -> dict[str, Any]:
    """The chosen plan with estimated and actual rows and keys visited."""
    parts = conjuncts(pattern)
    with space.read() as txn:
        if parts is None:
            ap = access_path(space, txn, pattern)
            steps = [(pattern, ap)]
        else:
            steps = plan_conjunction(space, txn, parts)
    qs = QueryStats()
    rows = sum(1 for _ in run_query(space, pattern, EMPTY_BINDINGS, qs))
    return {
        "pattern": str(pattern),
        "steps": [
            {"pattern": str(p), "access": ap.describe(), "kind": ap.kind, "estimated_rows": round(ap.estimate, 1)}
            for p, ap in steps
        ],
        "rows": rows,
        "keys_visited": qs.keys_visited,
    }


def clear_caches() -> None:
    """Forget compiled patterns (benchmarks start cold with it); plans and mirrors follow the generation."""
    _COMPILED.clear()
