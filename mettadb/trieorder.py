"""hyperon's order of a query's results: the order a trie of the stored atoms' tokens gives them.

hyperon 0.2.10 keeps a space in a trie whose tokens are an expression's start and end and its
leaves.  A node keeps its children in the order they were created, variables apart from the
rest, and a query walks it: where the query has a variable, the stored variables' branches
come first, then the others (an expression's start is one of them); where the query has a
token, the branch with that token comes first, then the stored variables'.  So atoms that
first differ at a later argument come grouped by the earlier ones.

A node is created by the first atom added under it and lives while some atom is below it;
mettadb reads its creation as the smallest insertion number of the atoms below it (`Numbers`:
range scans of the primary index, a scan per arity an open expression has).  When the removal
of an atom's last copy leaves some of its nodes alive, the writer keeps each such node's number
in the metadata (`node_key`: "tn:" and the node's tokens), and a node that dies takes its number
with it.  Variables are told apart by name, as hyperon does.

hyperon's grounded operations (`+`, `match`, `superpose`, `&self`, ...) cannot be hashed, so
each occurrence in a stored atom is a key of its own: from there on every atom has a branch of
its own, placed by the atom's insertion (`UNIQUE`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .atoms import Atom, Expression, Symbol, Variable
from .encoding import is_variable_tag, split_tokens, symbol_token, token_arity, varref_index
from .layout import Record

#: the metadata keys of nodes that outlived the atom that created them start with this
NODE_PREFIX = b"tn:"

__all__ = ["END", "NODE_PREFIX", "START", "NodeNumbers", "Numbers", "TriePath", "atom_tokens", "modes", "node_key",
           "reorder_for", "trie_permutation"]

#: the metadata keys of nodes that outlived the atom that created them start with this
NODE_PREFIX = b"tn:"

#: the token of an expression's start (of any arity: hyperon's start carries none) and end
START = b"("
END = b")"
#: the ways a query's position is matched: its token is a variable (or inside what one matches), or not
VAR, GROUND = 0, 1


#: the tokens hyperon 0.2.10 parses to grounded atoms that are not hashable (its operations and
#: `&self`; numbers, strings, `True`, `False`, `PI` and `EXP` are hashed)
UNIQUE_NAMES = frozenset("""
% &self * + - / < <= == =alpha > >= abs-math acos-math add-atom and asin-math atan-math bind! capture
ceil-math change-state! charsToString cos-math floor-math format-args get-atoms get-metatype get-state get-type
get-type-space git-module! import! include index-atom isinf-math isnan-math log-math match max-atom min-atom
mod-space! module-space-no-deps new-space nop not or parse pow-math pragma! print-mods! println!
register-module! remove-atom repr round-math sealed sin-math size-atom sort-strings sqrt-math stringToChars
superpose tan-math trace! trunc-math unique-atom xor""".split())
UNIQUE = frozenset(symbol_token(n) for n in UNIQUE_NAMES)


class TriePath:
    """A stored atom's path as hyperon's trie tokens.

    `offs[i]`: the byte offset in `path` where token i ends (an end token takes no bytes);
    `opens[i]`: the byte offsets of the arity tags of the expressions open after token i;
    `nvars[i]`: how many variables the path introduced up to token i;
    `alone`: the index of the first token only this atom has (a grounded operation), or -1."""

    __slots__ = ("alone", "names", "nvars", "offs", "opens", "path", "seq", "toks")

    def __init__(self, path: bytes, names: Sequence[str] | None, seq: int = -1) -> None:
        self.path = path
        self.seq = seq
        self.alone = -1
        self.names = tuple(names) if names else ()
        toks: list[bytes] = []
        offs: list[int] = []
        opens: list[tuple[int, ...]] = []
        nvars: list[int] = []
        stack: list[int] = []  # children left in each open expression
        at: list[int] = []  # the byte offset of each open expression's arity tag
        pos = introduced = 0
        for t in split_tokens(path):
            start = pos
            pos += len(t)
            n = token_arity(t)
            if n is not None:
                toks.append(START)
                offs.append(pos)
                if n:
                    stack.append(n)
                    at.append(start)
                    opens.append(tuple(at))
                    nvars.append(introduced)
                    continue
                opens.append(tuple(at))
                nvars.append(introduced)
                toks.append(END)
                offs.append(pos)
            elif is_variable_tag(t[0]):
                k = varref_index(t)
                if k is None:
                    k = introduced
                    introduced += 1
                toks.append(b"$" + (self.names[k] if k < len(self.names) else str(k)).encode())
                offs.append(pos)
            elif t in UNIQUE:
                if self.alone < 0:
                    self.alone = len(toks)
                toks.append(t + b"\x00" + path)
                offs.append(pos)
            else:
                toks.append(t)
                offs.append(pos)
            opens.append(tuple(at))
            nvars.append(introduced)
            while stack:  # a child is complete: close every expression it completes
                stack[-1] -= 1
                if stack[-1]:
                    break
                stack.pop()
                at.pop()
                toks.append(END)
                offs.append(pos)
                opens.append(tuple(at))
                nvars.append(introduced)
        self.toks, self.offs, self.opens, self.nvars = toks, offs, opens, nvars



def modes(toks: Sequence[Any], query: Sequence[Any]) -> list[int]:
    """How each of a stored atom's trie tokens meets a query's: VAR or GROUND."""
    out: list[int] = []
    i = j = 0
    n, m = len(toks), len(query)
    while i < n and j < m:
        q = query[j]
        if q[:1] == b"$":  # a query variable: all of what it matches is walked in VAR mode
            if toks[i] is START:
                depth = 0
                while True:
                    t = toks[i]
                    depth += 1 if t is START else -1 if t is END else 0
                    out.append(VAR)
                    i += 1
                    if depth == 0:
                        break
            else:
                out.append(VAR)
                i += 1
            j += 1
            continue
        out.append(GROUND)
        if q is START and toks[i][:1] == b"$":  # a stored variable takes the query's whole expression
            depth = 0
            while True:
                t = query[j]
                depth += 1 if t is START else -1 if t is END else 0
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        i += 1
    out.extend([VAR] * (n - len(out)))
    return out


def node_key(toks: Sequence[bytes]) -> bytes:
    """The metadata key naming a trie node: its tokens, each with its length (hashed when long)."""
    body = b"".join(len(t).to_bytes(2, "big") + t for t in toks)
    if len(body) > 400:
        body = b"#" + hashlib.blake2b(body, digest_size=16).digest()
    return NODE_PREFIX + body


class Numbers:
    """The creation number of trie nodes of one snapshot: the smallest insertion number below a node.

    `lookup(prefix, lo)` must give the first primary key >= `lo` that starts with... any key >= lo and
    its record, or None: a cursor's `set_range`; `scan(prefix)` every (key, record) with that prefix.
    Results are kept in `memo` (the caller's, for one version of the space)."""

    __slots__ = ("first", "kept", "memo", "scan")

    def __init__(self, first: Callable[[bytes], bytes | None],
                 scan: Callable[[bytes], Any], memo: dict[Any, Any],
                 kept: Callable[[bytes], int | None] | None = None) -> None:
        self.first = first
        self.scan = scan
        self.memo = memo
        #: the number the writer kept for a node (`node_key`), if any
        self.kept = kept

    def of(self, p: TriePath, i: int) -> int:
        """The number of the node p's first i+1 tokens lead to."""
        if 0 <= p.alone <= i:  # a node only this atom has
            return p.seq
        key = (p.path[:p.offs[i]], p.names[:p.nvars[i]], i) if p.nvars[i] else (p.path[:p.offs[i]], i)
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = self._compute(p, i)
        return got

    def _compute(self, p: TriePath, i: int) -> int:
        best = -1
        for seq in self.below(p, i):
            if best < 0 or seq < best:
                best = seq
        if self.kept is not None:
            k = self.kept(node_key(p.toks[:i + 1]))
            if k is not None and (best < 0 or k < best):
                best = k
        return best

    def below(self, p: TriePath, i: int) -> Iterator[int]:
        """The insertion numbers of the atoms below the node p's first i+1 tokens lead to (lazily)."""
        path, end = p.path, p.offs[i]
        opens = p.opens[i]
        prefixes = [b""]
        last = 0
        for at in opens:  # an open expression may have any arity: every arity some key has there
            if path[at] >= 0x40:  # (a wide one, 64 children or more: taken as it is)
                continue
            nxt: list[bytes] = []
            for built in prefixes:
                fixed = built + path[last:at]
                nxt.extend(fixed + bytes((tag,)) for tag in self._arities(fixed))
            prefixes = nxt
            last = at + 1
        names = p.names[:p.nvars[i]]
        for built in prefixes:
            prefix = built + path[last:end]
            for key, raw in self.scan(prefix):
                if names:
                    rec = Record(key, raw)
                    if tuple(rec.names or ())[:len(names)] != names:
                        continue
                    yield rec.seq
                else:
                    yield Record.seq_of(key, raw)

    def _arities(self, fixed: bytes) -> list[int]:
        """The short arity tags (< 0x40) that follow `fixed` in some key."""
        out: list[int] = []
        lo = fixed
        n = len(fixed)
        while True:
            key = self.first(lo)
            if key is None or len(key) <= n or not key.startswith(fixed):
                return out
            tag = key[n]
            if tag >= 0x40:
                return out
            out.append(tag)
            lo = fixed + bytes((tag + 1,))


def trie_permutation(toks: Sequence[Sequence[Any]], query: Sequence[Any],
                     number: Callable[[int, int], int]) -> list[int]:
    """The indexes of the token lists `toks` in hyperon's order for `query` (equal lists, copies, keep
    their order); `number(i, d)` is the creation number of the node the first d+1 tokens of list i
    lead to, asked for only where siblings of one kind must be ordered."""
    n = len(toks)
    if n < 2:
        return list(range(n))
    out: list[int] = []
    stack: list[tuple[list[int], int]] = [(list(range(n)), 0)]
    while stack:
        group, depth = stack.pop()
        if len(group) == 1:
            out.append(group[0])
            continue
        first = toks[group[0]]
        while depth < len(first):  # the tokens all of the group share
            t = first[depth]
            if any(toks[g][depth] != t for g in group):
                break
            depth += 1
        if depth >= len(first):  # one atom (copies): in the order they came
            out.extend(group)
            continue
        parts: dict[Any, list[int]] = {}
        for g in group:
            parts.setdefault(toks[g][depth], []).append(g)
        mode = modes(first, query)[depth]
        kinds: tuple[list[Any], list[Any]] = ([], [])  # first, then second: by the mode
        for tok in parts:
            is_var = tok[:1] == b"$"
            kinds[(0 if is_var else 1) if mode == VAR else (1 if is_var else 0)].append(tok)
        order: list[Any] = []
        for same in kinds:
            if len(same) > 1:
                same.sort(key=lambda tok: number(parts[tok][0], depth))
            order.extend(same)
        for tok in reversed(order):
            stack.append((parts[tok], depth + 1))
    return out


def atom_tokens(atom: Atom) -> list[Any]:
    """The trie tokens of an atom in memory (variables as `$name`, grounded atoms as themselves)."""
    out: list[Any] = []
    stack: list[Any] = [atom]
    while stack:
        a = stack.pop()
        if a is END:
            out.append(END)
            continue
        t = type(a)
        if t is Expression:
            out.append(START)
            stack.append(END)
            stack.extend(reversed(a.children))
        elif t is Variable:
            out.append(b"$" + a.name.encode())
        elif t is Symbol:
            name = a.name
            out.append(("u", name, id(atom)) if name in UNIQUE_NAMES else b"s" + name.encode())
        else:
            try:
                hash(a)
                out.append(("g", a))
            except TypeError:
                out.append(("g", id(a)))
    return out


class NodeNumbers:
    """The trie of a space held in memory, for its nodes' creation numbers (exact, removals too)."""

    __slots__ = ("next", "root")

    def __init__(self) -> None:
        self.root: dict[Any, list[Any]] = {}  # token -> [number, atoms below, children]
        self.next = 0

    def add(self, toks: Sequence[Any]) -> None:
        kids = self.root
        for t in toks:
            node = kids.get(t)
            if node is None:
                node = kids[t] = [self.next, 0, {}]
                self.next += 1
            node[1] += 1
            kids = node[2]

    def remove(self, toks: Sequence[Any]) -> None:
        kids = self.root
        for t in toks:
            node = kids.get(t)
            if node is None:
                return
            node[1] -= 1
            if not node[1]:
                del kids[t]
                return
            kids = node[2]

    def number(self, toks: Sequence[Any], depth: int) -> int:
        kids = self.root
        node: list[Any] = [0, 0, {}]
        for t in toks[:depth + 1]:
            node = kids[t]
            kids = node[2]
        return int(node[0])


def reorder_for(paths: Sequence[TriePath], query: Sequence[Any]) -> list[int]:
    """The indexes of `paths`, given in their trie order for a query of variables only, in their order
    for `query`: a sibling holding the query's own token moves before the stored variables beside it.

    Siblings of the same kind keep their order (their creation numbers decide in both), so no
    numbers are needed: this reorders a cached list of rules for each call."""
    n = len(paths)
    if n < 2:
        return list(range(n))
    seen: dict[int, list[int]] = {}

    def cmp(a: int, b: int) -> int:
        ta, tb = paths[a].toks, paths[b].toks
        d = 0
        m = min(len(ta), len(tb))
        while d < m and ta[d] == tb[d]:
            d += 1
        if d < m:
            ma = seen.get(a)
            if ma is None:
                ma = seen[a] = modes(ta, query)
            if ma[d] == GROUND:
                va, vb = ta[d][:1] == b"$", tb[d][:1] == b"$"
                if va != vb:
                    return 1 if va else -1
        return a - b

    return sorted(range(n), key=functools.cmp_to_key(cmp))
