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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lmdb

from .atoms import Atom, Expression, Symbol, Variable, fresh_variable, iter_atoms
from .bindings import EMPTY_BINDINGS, Bindings
from .encoding import decode, encode_with_names, split_tokens
from .keys import MAX_PLAIN, const_prefix, unreverse_key
from .unify import unify

if TYPE_CHECKING:
    from .store import Space

__all__ = ["COMMA", "AccessPath", "QueryStats", "explain", "plan_conjunction", "run_query"]

COMMA = Symbol(",")
_PLACEHOLDER = Symbol("\u2063bound")


@dataclass
class QueryStats:
    """Counters of one query run."""

    keys_visited: int = 0
    rows: int = 0


@dataclass
class AccessPath:
    """How one pattern is read from the store."""

    kind: str  # "forward" or "reverse"
    prefix: bytes
    prefix_tokens: int
    fwd_prefix: bytes
    fwd_tokens: list[bytes] = field(repr=False, default_factory=list)
    estimate: float = 0.0

    def describe(self) -> str:
        """A one-line human description."""
        if self.kind == "reverse":
            return f"reverse index, constant suffix of {self.prefix_tokens} tokens"
        if self.prefix_tokens == 0:
            return "full scan (no constant prefix)"
        return f"forward prefix of {self.prefix_tokens} tokens"


def _is_var_token(t: bytes) -> bool:
    b = t[0]
    return 0x80 <= b <= 0xC0 or b == 0x43


def access_path(space: Space, txn: lmdb.Transaction, pattern: Atom) -> AccessPath:
    """Choose forward or reverse for a pattern (already resolved)."""
    path, _ = encode_with_names(pattern)
    toks = split_tokens(path)
    fwd, nf = const_prefix(toks)
    best = AccessPath("forward", fwd, nf, fwd, toks)
    if len(toks) > 3 and 3 <= toks[0][0] < 64 and toks[1][0] > 0xC0 and nf < len(toks):
        rtoks = toks[:2] + toks[:1:-1]
        rev, nr = const_prefix(rtoks)
        if nr > nf:
            best = AccessPath("reverse", rev, nr, fwd, toks)
    best.estimate = _estimate(space, txn, toks, best.prefix_tokens)
    return best


def _head_count(space: Space, txn: lmdb.Transaction, toks: list[bytes]) -> int:
    if len(toks) > 1 and toks[0][0] < 0x40 and toks[1][0] > 0xC0:
        raw = txn.get(toks[0] + toks[1], db=space._dbs[b"heads"])
        if raw is None:
            return 0
        from .store import _unpack

        return int(_unpack(raw)[0])
    return space.distinct or 0


def _estimate(space: Space, txn: lmdb.Transaction, toks: list[bytes], const_tokens: int) -> float:
    n = _head_count(space, txn, toks)
    extra = max(0, const_tokens - 2)
    est = float(n)
    for _ in range(extra):
        est = est ** 0.5 if est > 1 else est
    return max(est, 1.0 if n else 0.0)


def _fresh_names(names: list[str]) -> list[str]:
    return [fresh_variable(n).name for n in names]


def _candidates(space: Space, txn: lmdb.Transaction, ap: AccessPath, qs: QueryStats) -> Iterator[tuple[bytes, Any]]:
    """(key, raw value) of every stored atom that may unify with the pattern."""
    dbs = space._dbs
    atoms_db = dbs[b"atoms"]
    if ap.kind == "forward":
        prefix = ap.prefix
        cur = txn.cursor(db=atoms_db)
        if cur.set_range(prefix):
            for key, raw in cur:
                if not key.startswith(prefix):
                    break
                qs.keys_visited += 1
                yield key, raw
    else:
        prefix = ap.prefix
        cur = txn.cursor(db=dbs[b"rev"])
        get = txn.get
        if cur.set_range(prefix):
            for rkey in cur.iternext(values=False):
                if not rkey.startswith(prefix):
                    break
                qs.keys_visited += 1
                key = unreverse_key(rkey)
                raw = get(key, db=atoms_db)
                if raw is not None:
                    yield key, raw
    # stored atoms with variables or hashed keys
    vx = dbs[b"vx"]
    if not txn.stat(vx)["entries"]:
        return
    vcur = txn.cursor(db=vx)
    toks = ap.fwd_tokens
    nf = len(split_tokens(ap.fwd_prefix)) if ap.fwd_prefix else 0
    pre = b""
    for t in range(nf):
        if vcur.set_key(b"v" + pre):
            for key in vcur.iternext_dup(keys=False, values=True):
                qs.keys_visited += 1
                raw = txn.get(key, db=atoms_db)
                if raw is not None:
                    yield key, raw
        pre += toks[t]
    if ap.kind == "reverse":
        vp = b"v" + ap.fwd_prefix
        if vcur.set_range(vp):
            for vkey, key in vcur:
                if not vkey.startswith(vp):
                    break
                qs.keys_visited += 1
                raw = txn.get(key, db=atoms_db)
                if raw is not None:
                    yield key, raw


def _match_one(space: Space, txn: lmdb.Transaction, pattern: Atom, bindings: Bindings,
               qs: QueryStats) -> Iterator[Bindings]:
    from .store import _Record

    resolved = bindings.resolve(pattern)
    ap = access_path(space, txn, resolved)
    fwd = ap.fwd_prefix
    for key, raw in _candidates(space, txn, ap, qs):
        rec = _Record(key, raw)
        if len(key) > MAX_PLAIN and not rec.path.startswith(fwd):
            continue
        stored = decode(rec.path, _fresh_names(rec.names) if rec.names else None)
        b = unify(resolved, stored, bindings)
        if b is not None:
            for _ in range(rec.count):
                qs.rows += 1
                yield b


def _bound_vars(b: set[Variable], pattern: Atom) -> Atom:
    """The pattern with already-bound variables replaced by a constant placeholder."""
    if not b:
        return pattern
    return Bindings({v: _PLACEHOLDER for v in b}).resolve(pattern)


def _vars(atom: Atom) -> set[Variable]:
    return {a for a in iter_atoms(atom) if type(a) is Variable}  # type: ignore[misc]


def plan_conjunction(space: Space, txn: lmdb.Transaction, patterns: list[Atom],
                     bound: set[Variable] | None = None) -> list[tuple[Atom, AccessPath]]:
    """Greedy join order: the cheapest pattern next, given the variables bound so far."""
    remaining = sorted(patterns, key=str)
    have = set(bound or ())
    order = []
    while remaining:
        scored = []
        for i, p in enumerate(remaining):
            ap = access_path(space, txn, _bound_vars(have, p))
            # prefer fewer estimated rows, then more constant tokens, then text order
            scored.append((ap.estimate, -ap.prefix_tokens, i, ap))
        scored.sort(key=lambda s: s[:3])
        _, _, i, ap = scored[0]
        p = remaining.pop(i)
        order.append((p, ap))
        have |= _vars(p)
    return order


def _conjuncts(pattern: Atom) -> list[Atom] | None:
    if type(pattern) is Expression and pattern.children and pattern.children[0] == COMMA:  # type: ignore[attr-defined]
        return list(pattern.children[1:])  # type: ignore[attr-defined]
    return None


def run_query(space: Space, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS,
              stats: QueryStats | None = None) -> Iterator[Bindings]:
    """Lazily yield Bindings of every match of a pattern or conjunction."""
    qs = stats if stats is not None else QueryStats()
    with space._read() as txn:
        parts = _conjuncts(pattern)
        if parts is None:
            yield from _match_one(space, txn, pattern, bindings, qs)
            return
        if not parts:
            yield bindings
            return
        bound = {v for v in bindings if type(bindings.walk(v)) is not Variable}
        order = [p for p, _ in plan_conjunction(space, txn, parts, bound)]
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


def explain(space: Space, pattern: Atom) -> dict[str, Any]:
    """The chosen plan with estimated and actual rows and keys visited."""
    parts = _conjuncts(pattern)
    with space._read() as txn:
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
