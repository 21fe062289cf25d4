"""hyperon's order of a query's results: the order a trie of the stored atoms' tokens gives them.

hyperon 0.2.10 keeps a space in a trie whose tokens are an expression's start, which carries its
size, and its leaves: MORK's prefix order, the arity first.  A node keeps its children in the
order they were created, variables apart from the rest, and a query walks it: where the query has
a variable, the stored variables' branches come first, then the others; where the query has a
token, the branch with that token comes first, then the stored variables'.  So atoms that first
differ at a later argument come grouped by the earlier ones.

A node is created by the first atom added under it and lives while some atom is below it;
mettadb reads its creation as the smallest insertion number of the atoms below it (`Numbers`: a
range scan of the primary index, whose keys are those tokens in that order).  When the removal
of an atom's last copy leaves some of its nodes alive, the writer keeps each such node's number
in the metadata (`node_key`: "tn:" and the node's tokens), and a node that dies takes its number
with it.  Variables are told apart by name, as hyperon does.

hyperon's grounded operations (`+`, `match`, `superpose`, `&self`, ...) cannot be hashed, so
each occurrence in a stored atom is a key of its own: from there on every atom has a branch of
its own, placed by the atom's insertion (`UNIQUE`).  A Char (`'c'`, stored as that symbol) is a
Python object there, which hyperon cannot hash either and keeps with the variables (`is_char_token`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .atoms import Atom, Expression, Symbol, Variable
from .encoding import arity_token, is_variable_tag, split_tokens, symbol_token, token_arity, varref_index
from .keys import MAX_PLAIN
from .layout import Record

__all__ = ["NODE_PREFIX", "UNIQUE_NAMES", "NodeNumbers", "Numbers", "TriePath", "atom_tokens", "ground_permutation",
           "head_tokens", "is_char_name", "is_char_token", "is_var", "modes", "node_key", "reorder_for", "trie_permutation"]

#: the metadata keys of nodes that outlived the atom that created them start with this
NODE_PREFIX = b"tn:"
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
#: a space (`&self`, stored by name) matches by a query of its own: hyperon keeps it with the variables
SPACE = symbol_token("&self")

# Tokens: an expression's start is its arity token (bytes below 0x40, or the wide-arity tag); a
# variable is ("$", name), a space ("$", "&self" or "space", what makes it its own); a symbol or
# grounded value of a stored path is its token's bytes (a symbol in memory: b"s" + name; another
# grounded atom: ("g", atom)); a grounded operation is its bytes and the whole path's (in
# memory: ("u", name, id)), so no two atoms share it.


def is_char_name(name: str) -> bool:
    """Whether a symbol's name spells a Char (`'c'`: one character, not a quote, between quotes), which
    hyperon 0.2.10's tokenizer makes a grounded Python object."""
    return len(name) == 3 and name[0] == "'" and name[2] == "'" and name[1] != "'"


def is_char_token(tok: bytes) -> bool:
    """Whether a stored token is a Char's symbol (`is_char_name`)."""
    n = tok[0] - 0xC0
    if not 3 <= n <= 6 or len(tok) != n + 1 or tok[1] != 0x27 or tok[-1] != 0x27:
        return False
    try:
        return is_char_name(tok[1:].decode())
    except UnicodeDecodeError:
        return False


def is_var(tok: Any) -> bool:
    """Whether a trie token is a variable."""
    return type(tok) is tuple and tok[0] == "$"


def _arity(tok: Any) -> int:
    """The size an expression's start token carries, or -1 for any other token."""
    if type(tok) is bytes and (tok[0] < 0x40 or tok[0] == 0x42):
        n = token_arity(tok)
        return -1 if n is None else n
    return -1


class TriePath:
    """A stored atom's path as hyperon's trie tokens.

    `offs[i]`: the byte offset in `path` where token i ends (the key prefix of the node it leads
    to); `nvars[i]`: how many variables the path introduced up to token i; `alone`: the index of
    the first token only this atom has (a grounded operation), or -1."""

    __slots__ = ("alone", "names", "nvars", "offs", "path", "seq", "toks")

    def __init__(self, path: bytes, names: Sequence[str] | None, seq: int = -1) -> None:
        self.path = path
        self.seq = seq
        self.alone = -1
        self.names = tuple(names) if names else ()
        parts = split_tokens(path)
        toks: list[Any] = []
        offs: list[int] = []
        nvars: list[int] = []
        pos = introduced = 0
        if not names and UNIQUE.isdisjoint(parts) and not any(is_variable_tag(t[0]) for t in parts) \
                and (b"'" not in path or not any(map(is_char_token, parts))):
            # the common fact: no variable, no operation
            for t in parts:
                pos += len(t)
                offs.append(pos)
            self.toks, self.offs, self.nvars = parts, offs, [0] * len(parts)
            return
        for t in parts:
            pos += len(t)
            if is_variable_tag(t[0]):
                k = varref_index(t)
                if k is None:
                    k = introduced
                    introduced += 1
                toks.append(("$", self.names[k] if k < len(self.names) else str(k)))
            elif t in UNIQUE or is_char_token(t):
                if self.alone < 0:
                    self.alone = len(toks)
                # (a space or a Char is a key of its own kept with the variables; an operation, with the
                # others)
                toks.append(("$", "&self", path) if t == SPACE else ("$", "char", path) if t not in UNIQUE
                            else t + b"\x00" + path)
            else:
                toks.append(t)
            offs.append(pos)
            nvars.append(introduced)
        self.toks, self.offs, self.nvars = toks, offs, nvars


def _skip(toks: Sequence[Any], i: int) -> int:
    """The index after the whole subterm that starts at token i."""
    left = 1
    while left:
        left += max(_arity(toks[i]), 0) - 1
        i += 1
    return i


def modes(toks: Sequence[Any], query: Sequence[Any]) -> list[int]:
    """How each of a stored atom's trie tokens meets a query's: VAR or GROUND."""
    out: list[int] = []
    i = j = 0
    n, m = len(toks), len(query)
    while i < n and j < m:
        if is_var(query[j]):  # a query variable: all of what it matches is walked in VAR mode
            k = _skip(toks, i)
            out.extend([VAR] * (k - i))
            i = k
            j += 1
            continue
        out.append(GROUND)
        # (a stored variable takes the query's whole subterm)
        j = _skip(query, j) if is_var(toks[i]) else j + 1
        i += 1
    out.extend([VAR] * (n - len(out)))
    return out


def head_tokens(path: TriePath) -> tuple[Any, ...]:
    """The trie tokens of a stored rule's head (`(= head body)`: the subterm after `=`)."""
    toks = path.toks
    return tuple(toks[2:_skip(toks, 2)]) if len(toks) > 2 else tuple(toks)


def node_key(toks: Sequence[Any]) -> bytes:
    """The metadata key naming a trie node: its tokens, each with its length (hashed when long).

    A length is 2 bytes; a token of 64 KiB or more has `00 00` (no token is empty) and 8 bytes."""
    parts = [t if type(t) is bytes else b"$" + str(t[1]).encode() for t in toks]
    body = b"".join((len(t).to_bytes(2, "big") if len(t) < 0x10000 else bytes(2) + len(t).to_bytes(8, "big")) + t
                    for t in parts)
    if len(body) > 400:
        body = b"#" + hashlib.blake2b(body, digest_size=16).digest()
    return NODE_PREFIX + body


class Numbers:
    """The creation numbers of trie nodes of one snapshot: the smallest insertion number below a node.

    `scan(prefix)` gives every (key, record) of the primary index with that prefix; `kept(node_key)`
    the number the writer kept for a node, if any. Results are kept in `memo` (the caller's, for
    one version of the space)."""

    __slots__ = ("kept", "memo", "scan")

    def __init__(self, scan: Callable[[bytes], Any], memo: dict[Any, Any],
                 kept: Callable[[bytes], int | None] | None = None) -> None:
        self.scan = scan
        self.memo = memo
        self.kept = kept

    def of(self, p: TriePath, i: int) -> int:
        """The number of the node p's first i+1 tokens lead to."""
        if 0 <= p.alone <= i:  # a node only this atom has
            return p.seq
        key = (p.path[:p.offs[i]], p.names[:p.nvars[i]] if p.nvars[i] else ())  # (a tuple: the memo holds more)
        got: int | None = self.memo.get(key)
        if got is None:
            got = self.memo[key] = self._compute(p, i)
        return got

    def of_prefix(self, prefix: bytes) -> int:
        """The number of the node a plain key prefix (no variable, no operation) leads to, in a space
        that kept no numbers (`kept` is None): the smallest insertion number below it."""
        key = (prefix, ())
        got: int | None = self.memo.get(key)
        if got is None:
            got = self.memo[key] = min((Record.seq_of(k, raw) for k, raw in self.scan(prefix)), default=-1)
        return got

    def _compute(self, p: TriePath, i: int) -> int:
        if p.nvars[i]:  # after a variable: the numbers of every name prefix under the node, found at once
            names = p.names[:p.nvars[i]]
            prefix = p.path[:p.offs[i]]
            tk = ("names", prefix, len(names))
            table: dict[tuple[str, ...], int] | None = self.memo.get(tk)
            if table is None:
                table = self.memo[tk] = self._name_table(prefix, len(names))
            best = table.get(names, -1)
        else:
            best = min(self.below(p, i), default=-1)
        if self.kept is not None:
            k = self.kept(node_key(p.toks[:i + 1]))
            if k is not None and (best < 0 or k < best):
                best = k
        return best

    def _name_table(self, prefix: bytes, n: int) -> dict[tuple[str, ...], int]:
        """The smallest insertion number below `prefix` per first n variable names (one scan, however
        many atoms equal up to variable names the records there hold)."""
        long = len(prefix) > MAX_PLAIN
        table: dict[tuple[str, ...], int] = {}
        for _key, raw in self.scan(prefix[:MAX_PLAIN] if long else prefix):
            rec = Record(_key, raw)
            if long and not rec.path.startswith(prefix):
                continue
            for vn, _c, vs in rec.variants:
                t = tuple(vn or ())[:n]
                got = table.get(t)
                if got is None or vs < got:
                    table[t] = vs
        return table

    def below(self, p: TriePath, i: int) -> Iterator[int]:
        """The insertion numbers of the atoms below the node p's first i+1 tokens lead to (lazily)."""
        names = p.names[:p.nvars[i]]
        prefix = p.path[:p.offs[i]]
        long = len(prefix) > MAX_PLAIN  # keys past MAX_PLAIN bytes are hashed: the path is in the record
        for key, raw in self.scan(prefix[:MAX_PLAIN] if long else prefix):
            if names or long:
                rec = Record(key, raw)
                if long and not rec.path.startswith(prefix):
                    continue
                if not names:
                    yield rec.seq
                    continue
                for vn, _c, vs in rec.variants:  # (atoms equal up to variable names: apart in the trie)
                    if tuple(vn or ())[:len(names)] == names:
                        yield vs
            else:
                yield Record.seq_of(key, raw)


def trie_permutation(toks: Sequence[Sequence[Any]], query: Callable[[], Sequence[Any]],
                     number: Callable[[int, int], int]) -> list[int]:
    """The indexes of the token lists `toks` in hyperon's order for the query whose tokens `query()`
    gives (asked for only where variables and other tokens are siblings); equal lists, copies, keep
    their order. `number(i, d)` is the creation number of the node the first d+1 tokens of list i
    lead to, asked for only where siblings of one kind must be ordered."""
    n = len(toks)
    if n < 2:
        return list(range(n))
    if n == 2:  # (the common case, without the groups)
        a, b = toks
        m = min(len(a), len(b))
        d = 0
        while d < m and a[d] == b[d]:
            d += 1
        if d == m:
            return [0, 1]
        va, vb = is_var(a[d]), is_var(b[d])
        if va != vb:
            return [0, 1] if va == (modes(a, query())[d] == VAR) else [1, 0]
        return [0, 1] if number(0, d) < number(1, d) else [1, 0]
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
        kinds: tuple[list[Any], list[Any]] = ([], [])  # variables, the others
        for tok in parts:
            kinds[0 if is_var(tok) else 1].append(tok)
        if kinds[0] and kinds[1] and modes(first, query())[depth] == GROUND:
            kinds = (kinds[1], kinds[0])  # the query's own token before the stored variables
        order: list[Any] = []
        for same in kinds:
            if len(same) > 1:
                same.sort(key=lambda tok: number(parts[tok][0], depth))
            order.extend(same)
        for tok in reversed(order):
            stack.append((parts[tok], depth + 1))
    return out


class _NotPlain(Exception):
    """A key with a variable, an extension tag or a space: `ground_permutation` cannot order it."""


def _plain_token(key: bytes, pos: int) -> bytes:
    """The token of a plain ground key at `pos` (an arity or a symbol); `_NotPlain` for a variable,
    an extension tag or a space."""
    t = key[pos]
    if t > 0xC0:
        tok = key[pos:pos + 1 + (t & 0x3F)]
    elif t < 0x40:
        tok = key[pos:pos + 1]
    else:
        raise _NotPlain
    if tok == SPACE or (tok[0] > 0xC2 and tok[1] == 0x27 and is_char_token(tok)):
        raise _NotPlain
    return tok


def _compare_plain(a: bytes, b: bytes, seq_a: int, seq_b: int, number: Callable[[bytes], int]) -> int:
    """`ground_permutation`'s order of two distinct plain ground keys (negative: a first)."""
    pos = 0
    n = min(len(a), len(b))
    while pos < n:
        tok = _plain_token(a, pos)
        end = pos + len(tok)
        if tok == b[pos:end]:
            if tok in UNIQUE:  # an operation: each atom's own branch from here, by insertion
                return seq_a - seq_b
            pos = end
            continue
        tok_b = _plain_token(b, pos)
        end_b = pos + len(tok_b)
        # siblings of one kind (no variables here): their nodes' creation numbers; a leaf or an
        # operation is the atom's own node
        na = seq_a if end == len(a) or tok in UNIQUE else number(a[:end])
        nb = seq_b if end_b == len(b) or tok_b in UNIQUE else number(b[:end_b])
        return na - nb
    raise _NotPlain


def ground_permutation(keys: Sequence[bytes], seqs: Sequence[int], number: Callable[[bytes], int]) -> list[int] | None:
    """`trie_permutation` for plain ground keys (one token per tag byte: arities and symbols) of a
    space that kept no node numbers, straight from the bytes: the indexes in hyperon's order; None
    when some key holds a variable, an extension tag or a space (take the token path then).

    `number(prefix)` is the creation number of the node a key prefix leads to; equal keys (copies)
    keep their order."""
    n = len(keys)

    def cmp(i: int, j: int) -> int:
        a, b = keys[i], keys[j]
        if a == b:
            return i - j
        return _compare_plain(a, b, seqs[i], seqs[j], number) or i - j

    try:
        if n == 2:
            return [0, 1] if cmp(0, 1) < 0 else [1, 0]
        return sorted(range(n), key=functools.cmp_to_key(cmp))
    except _NotPlain:
        return None


def atom_tokens(atom: Atom) -> list[Any]:
    """The trie tokens of an atom in memory (variables by name, grounded atoms as themselves)."""
    out: list[Any] = []
    stack: list[Any] = [atom]
    while stack:
        a = stack.pop()
        t = type(a)
        if t is Expression:
            kids = a.children
            out.append(arity_token(len(kids)))
            stack.extend(reversed(kids))
        elif t is Variable:
            out.append(("$", a.name))
        elif t is Symbol:
            name = a.name
            if name in UNIQUE_NAMES:
                out.append(("u", name, id(atom)))
            elif name[0] == "'" and is_char_name(name):  # (a Char: kept with the variables, a key of its own)
                out.append(("$", "char", id(a)))
            else:
                out.append(b"s" + name.encode())
        elif getattr(a, "matches_by_query", False) or getattr(a, "keyed_with_variables", False):
            # a space (or a Python object): kept with the variables, a key of its own
            out.append(("$", "space", id(a)))
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
                va, vb = is_var(ta[d]), is_var(tb[d])
                if va != vb:
                    return 1 if va else -1
        return a - b

    return sorted(range(n), key=functools.cmp_to_key(cmp))
