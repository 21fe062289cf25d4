"""Spaces the interpreter can hold: the durable one, and in-memory ones from `new-space`."""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Iterator
from typing import Any, Protocol

from .atoms import Atom, Bool, Expression, Float, Grounded, Integer, String, Symbol, Variable, fresh_variable, iter_atoms, rebuild
from .bindings import EMPTY_BINDINGS, Bindings
from .encoding import decode, encode_with_names
from .layout import FIRST_SEQ
from .trieorder import NodeNumbers, TriePath, atom_tokens, is_var, trie_permutation
from .unify import SPACE_QUERY, unify, unify_all

__all__ = ["ORDER_SCALE", "MemorySpace", "ModuleSpaceAtom", "Overlay", "SpaceAtom", "SpaceLike", "StateAtom",
           "holds_session_object", "merged_atoms", "merged_query", "next_stored_seq", "rename_apart", "session_overlay",
           "stored_removable"]


class SpaceLike(Protocol):
    """What the interpreter needs of a space."""

    def query(self, pattern: Atom, bindings: Bindings = ...) -> Iterator[Bindings]: ...
    def add(self, atom: Atom) -> Any: ...
    def remove(self, atom: Atom) -> bool: ...
    def atoms(self) -> Iterator[Atom]: ...


_EQ = Symbol("=")


def rename_apart(atom: Atom, lead: Atom | None = None, names: dict[str, Variable] | None = None,
                 alias: dict[str, str] | None = None) -> Atom:
    """The atom with every variable replaced by a fresh one, numbered as hyperon numbers them: in
    the order they first occur in the atom (with `lead`, those of `lead` first, in its order).
    With `names` (by variable name), a variable renamed before through the same dict keeps its new
    name (the results of one renamed rule share its variables) and a new one is recorded there;
    one query's atoms share one (hyperon's).  `alias` gives some variables the key they go by there
    instead of their names (a cached rule's: the name it was stored with)."""
    vs = {a: None for a in iter_atoms(atom) if type(a) is Variable}  # (a dict: the written order)
    if not vs:
        return atom
    if lead is not None:
        vs = dict.fromkeys([a for a in iter_atoms(lead) if type(a) is Variable and a in vs] + list(vs))
    if names is None:
        return Bindings({v: fresh_variable(v.name) for v in vs}).resolve(atom)
    got = {}
    for v in vs:
        k = v.name if alias is None else alias.get(v.name, v.name)
        f = names.get(k)
        if f is None:
            f = names[k] = fresh_variable(v.name)
        got[v] = f
    return Bindings(got).resolve(atom)


class MemorySpace:
    """A small in-memory multiset space (what `new-space` makes)."""

    def __init__(self) -> None:
        self._atoms: list[Atom] = []
        self._toks: list[list[Any]] = []  # each atom's trie tokens
        self._trie = NodeNumbers()
        self._adds = 0
        #: (head name, arity) -> positions of the rules `(= (head ...) body)`; under None, the
        #: positions of every other atom a rule query can meet (built when first asked, dropped on a change)
        self._rules: dict[tuple[str, int] | None, list[int]] | None = None

    def query(self, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS) -> Iterator[Bindings]:
        """Matches in hyperon's order: the trie order for each conjunct, nested-loop over them."""
        from .query import conjuncts

        parts = conjuncts(pattern)
        if parts is None:
            parts = [pattern]
        stack = [(0, bindings)]
        while stack:
            i, b = stack.pop()
            if i == len(parts):
                yield b
                continue
            p = b.resolve(parts[i])
            hits: dict[int, list[Bindings]] = {}
            names: dict[str, Variable] = {}  # (hyperon queries each conjunct per row, each query with one map)
            for j, a in enumerate(self._atoms):
                got = unify_all(p, rename_apart(a, None, names), b, True)
                if got:
                    hits[j] = got
            found = [(i + 1, b2) for j in self._trie_order(list(hits), p) for b2 in hits[j]]
            stack.extend(reversed(found))

    def rule_query(self, call: Expression, body: Variable, bindings: Bindings = EMPTY_BINDINGS) -> list[Bindings]:
        """`query((= call body))` for a call headed by a symbol, reading only the atoms that can
        match it (rules for its head and arity, and atoms whose head is not a symbol's call)."""
        rules = self._rules
        if rules is None:
            rules = self._rules = {None: []}
            for j, a in enumerate(self._atoms):
                if type(a) is Expression and len(a.children) == 3 and a.children[0] == _EQ:
                    h = a.children[1]
                    if type(h) is Expression and h.children and type(h.children[0]) is Symbol:
                        rules.setdefault((h.children[0].name, len(h.children)), []).append(j)
                        continue
                    rules[None].append(j)
                elif type(a) is Variable or (type(a) is Expression and len(a.children) == 3
                                             and type(a.children[0]) is Variable):  # `$x`, `($r $a $b)` match too
                    rules[None].append(j)
        head = call.children[0]
        found = rules.get((head.name, len(call.children)), [])  # type: ignore[attr-defined]
        candidates = sorted(found + rules[None]) if rules[None] else found
        pattern = Expression((_EQ, call, body))
        hits: dict[int, list[Bindings]] = {}
        names: dict[str, Variable] = {}  # (one query, one map of names: hyperon's)
        for j in candidates:
            got = unify_all(pattern, rename_apart(self._atoms[j], None, names), bindings, True)
            if got:
                hits[j] = got
        return [b2 for j in self._trie_order(list(hits), pattern) for b2 in hits[j]]

    def hits(self, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS) -> list[tuple[int, Bindings]]:
        """(position, bindings) of each atom that matches one pattern (not a conjunction), by position
        (an atom holding a space may match in several ways: a row for each, in their order)."""
        out: list[tuple[int, Bindings]] = []
        names: dict[str, Variable] = {}  # (one query, one map of names: hyperon's)
        for j, a in enumerate(self._atoms):
            for b2 in unify_all(pattern, rename_apart(a, None, names), bindings, True):
                out.append((j, b2))
        return out

    def _trie_order(self, hits: list[int], query: Atom) -> list[int]:
        toks = [self._toks[j] for j in hits]
        perm = trie_permutation(toks, lambda: atom_tokens(query), lambda i, d: self._trie.number(toks[i], d))
        return [hits[i] for i in perm]

    def add(self, atom: Atom) -> None:
        self._adds += 1
        toks = _occurrence_tokens(atom_tokens(atom), self._adds)
        self._rules = None
        self._atoms.append(atom)
        self._toks.append(toks)
        self._trie.add(toks)

    def remove(self, atom: Atom) -> bool:
        """Remove one copy, as hyperon's trie does (`_victim`)."""
        i = self._victim(atom)
        if i < 0:
            return False
        self._delete(i)
        return True

    def _victim(self, atom: Atom) -> int:
        """The position of the atom hyperon's trie removes for `atom`, or -1.  Up to the atom's first
        state, space or operation (a key of each atom's own) the trie has one branch; there hyperon
        takes the first branch whose key equals the atom's and fails when the atom is not in it."""
        i = self._position(atom)
        d = self._key_index(i) if i >= 0 else -1
        if d < 0:
            return i
        k = self.first_owner(self._trie_toks(i)[:d], d, _sub_atom(atom, d))
        return i if k < 0 or k == i else k if self._same(k, atom) else -1

    def first_owner(self, head: list[Any], d: int, key: Atom) -> int:
        """The position of the first atom (the first branch, as hyperon's trie keeps branches in
        creation order) whose trie tokens start with `head` and whose own key, its d-th token, is
        equal to `key` (the same operation, space or state); -1 if none."""
        for k in range(len(self._atoms)):  # (atoms in the order they came)
            if self._key_index(k) == d and self._trie_toks(k)[:d] == head and _sub_atom(self._atoms[k], d) == key:
                return k
        return -1

    def _trie_toks(self, i: int) -> list[Any]:
        """The trie tokens of the atom at position i."""
        return self._toks[i]

    def _key_index(self, i: int) -> int:
        """Where the first key only the atom at position i has is in its trie tokens, or -1."""
        for d, t in enumerate(self._toks[i]):
            if type(t) is tuple and len(t) == 4:  # (`_occurrence_tokens`)
                return d
        return -1

    def _position(self, atom: Atom) -> int:
        """Where the first copy of an atom (up to its variables' names) is, or -1."""
        for i in range(len(self._atoms)):
            if self._same(i, atom):
                return i
        return -1

    def _same(self, i: int, atom: Atom) -> bool:
        """Whether the atom at position i is `atom` (up to its variables' names)."""
        from .atoms import alpha_equal

        a = self._atoms[i]
        return a == atom or alpha_equal(a, atom)

    def _delete(self, i: int) -> None:
        self._rules = None
        del self._atoms[i]
        self._trie.remove(self._toks.pop(i))

    def atoms(self) -> Iterator[Atom]:
        """Every atom, in hyperon's order (the trie's, as a query of a variable walks it)."""
        order = self._trie_order(list(range(len(self._atoms))), Variable("x"))
        return iter([self._atoms[j] for j in order])

    def atoms_as_added(self) -> list[Atom]:
        """Every atom, in the order they were added."""
        return list(self._atoms)

    def __len__(self) -> int:
        return len(self._atoms)


def _sub_atom(atom: Atom, d: int) -> Atom:
    """The atom's d-th sub-atom in prefix order (its d-th trie token's)."""
    return next(itertools.islice(iter_atoms(atom), d, None))


def _occurrence_tokens(toks: list[Any], serial: int) -> list[Any]:
    """An added atom's trie tokens with each grounded object that hyperon cannot hash (a state, a space,
    an operation) made a key of this occurrence alone, as hyperon's trie makes it (`serial` differs
    for each atom added)."""
    for i, t in enumerate(toks):
        if type(t) is tuple and (t[0] == "u" or (t[0] == "g" and type(t[1]) not in _STORABLE)
                                 or (t[0] == "$" and len(t) > 2)):
            toks[i] = (*t[:2], serial, i)
    return toks


class SpaceAtom(Grounded):
    """A space as a grounded atom (`&self`, `(new-space)`); equal only to itself."""

    __slots__ = ()
    session_kind = "space"
    type_name = "SpaceType"
    matches_by_query = True

    def __init__(self, space: Any, name: str | None = None) -> None:
        object.__setattr__(self, "value", space)
        object.__setattr__(self, "_hash", id(space))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpaceAtom) and other.value is self.value

    __hash__ = Grounded.__hash__

    def __repr__(self) -> str:
        return "SpaceAtom()"

    def text(self) -> str:
        """How the space prints."""
        return f"GroundingSpace-0x{id(self.value):x}"


class ModuleSpaceAtom(SpaceAtom):
    """The space of a module (a script's `&self`, an imported module); prints as hyperon names them."""

    __slots__ = ("label",)
    label: str

    def __init__(self, space: Any, label: str = "") -> None:
        super().__init__(space)
        object.__setattr__(self, "label", label)

    def text(self) -> str:
        """How the module space prints (the top module, a script's `&self`, has no label)."""
        return f"ModuleSpace(GroundingSpace-top{':' if self.label else ''}{self.label})"


class StateAtom(Grounded):
    """A mutable state cell; prints `(State value)` like hyperon.

    A state may hold itself (`(change-state! &s (wrap &s))`): printing, equality and every other walk
    of an atom treat it as a leaf or walk into it with a stack and stop where it comes round again
    (printed `(State …)` there; hyperon 0.2.10 overflows its stack)."""

    __slots__ = ()
    session_kind = "state"
    type_name = "StateMonad"
    holds_atom = True

    def __init__(self, value: Atom, value_type: Atom | None = None) -> None:
        # [current value, type of the first value (the state's type; None: undefined)]
        object.__setattr__(self, "value", [value, value_type])
        object.__setattr__(self, "_hash", hash("StateMonad"))  # (equal states may hold other values later)

    def __eq__(self, other: object) -> bool:
        """As in hyperon: two states are equal while they hold equal values (and types); states that
        hold themselves are equal when no difference is ever met going round (a pair of states met
        again is taken as equal)."""
        return other is self or (type(other) is StateAtom and _states_equal(self, other))

    __hash__ = Grounded.__hash__

    def __repr__(self) -> str:
        return f"StateAtom({self})"

    def shows(self) -> tuple[str, Atom, str]:
        """Prints as `(State value)`."""
        return "(State ", self.value[0], ")"

    def text(self) -> str:
        """How the state prints."""
        return str(self)

    @property
    def value_type(self) -> Atom:
        """The state's value type: its first value's (`%Undefined%` when not known)."""
        t = self.value[1]
        return t if t is not None else Symbol("%Undefined%")

    @property
    def current(self) -> Atom:
        """The value held now."""
        return self.value[0]  # type: ignore[no-any-return]

    def set(self, value: Atom) -> None:
        """Replace the held value."""
        self.value[0] = value


#: the pairs of states (by id) this thread is comparing, taken as equal meanwhile; shared by nested
#: comparisons (a state inside bindings inside a state), so that a cycle through them ends too
_COMPARING = threading.local()


def _states_equal(a: StateAtom, b: StateAtom) -> bool:
    """Equal values and types, walked with a stack through expressions and the states inside."""
    met: set[tuple[int, int]] | None = getattr(_COMPARING, "met", None)
    outermost = met is None
    if met is None:
        met = _COMPARING.met = set()
    try:
        stack: list[tuple[Any, Any]] = [(a, b)]
        while stack:
            x, y = stack.pop()
            if x is y:
                continue
            tx = type(x)
            if tx is StateAtom:
                if type(y) is not StateAtom:
                    return False
                pair = (id(x), id(y))
                if pair in met:
                    continue
                met.add(pair)
                stack.append((x.value[1], y.value[1]))
                stack.append((x.value[0], y.value[0]))
            elif tx is Expression:
                if type(y) is not Expression or x._hash != y._hash or len(x.children) != len(y.children):
                    return False
                stack.extend(zip(x.children, y.children))
            elif x != y:
                return False
        return True
    finally:
        if outermost:
            _COMPARING.met = None


_STORABLE = (Integer, Float, String, Bool)
_OVERLAYS: weakref.WeakKeyDictionary[Any, Overlay] = weakref.WeakKeyDictionary()
#: an overlay atom's place among the stored atoms: stored insertion numbers are scaled by this, and an
#: overlay atom added when the store's next number was n is numbered (n - 1) * ORDER_SCALE + k, k its
#: overlay's count of atoms so far (after the stored atoms added before it, before those added later)
ORDER_SCALE = 1 << 32
#: what a session object is replaced by to encode the rest of an overlay atom (one token, as it was)
_HOLE = Symbol("session-object")


def _is_session_object(a: Atom) -> bool:
    t = type(a)
    return t is not Expression and t is not Symbol and t is not Variable and t not in _STORABLE


class Overlay(MemorySpace):
    """A durable space's session overlay: the atoms holding states, spaces and other objects of this
    process, each numbered where it was added among the stored atoms, so that a query of both gives
    hyperon's order, one trie's (`merged_query`).

    An overlay atom's trie tokens are its stored path's (`trieorder.TriePath` of the atom with its
    session objects encoded as a symbol) up to its first session object, which is a key of its own
    there, as in hyperon: with the variables for a space, with the other tokens for anything else."""

    def __init__(self) -> None:
        super().__init__()
        self._order: list[int] = []
        self._paths: list[TriePath] = []
        self._added = 0
        #: trie nodes (their tokens) that outlived the atom that created them, with its number
        self._kept: dict[tuple[Any, ...], int] = {}
        #: the store's next insertion number as last seen
        self._next = 0

    def add_numbered(self, atom: Atom, next_seq: int) -> None:
        """Add an atom when the store's next insertion number is `next_seq`."""
        self.settle(next_seq)
        self._put(atom, next_seq)

    def add(self, atom: Atom) -> None:
        """Add an atom after every atom known so far."""
        self._put(atom, max(self._order, default=0) // ORDER_SCALE + 2)

    def _put(self, atom: Atom, next_seq: int) -> None:
        MemorySpace.add(self, atom)
        self._added += 1
        self._order.append((next_seq - 1) * ORDER_SCALE + self._added % ORDER_SCALE)
        self._paths.append(_overlay_path(atom, self._added))

    def _delete(self, i: int) -> None:
        super()._delete(i)
        del self._order[i]
        del self._paths[i]

    def _key_index(self, i: int) -> int:
        return self._paths[i].alone

    def settle(self, next_seq: int) -> None:
        """Take note of the store's next insertion number: one lower than seen before means a rollback
        gives numbers out again, which the atoms added from then on take, so every atom here numbered
        past it moves down to it (all of them were added before those)."""
        if next_seq >= self._next:
            self._next = next_seq
            return
        self._next = next_seq
        floor = (next_seq - 1) * ORDER_SCALE
        self._order = [min(o, floor + o % ORDER_SCALE) for o in self._order]
        self._kept = {k: min(o, floor + o % ORDER_SCALE) for k, o in self._kept.items()}

    def remove_from(self, store: Any, atom: Atom) -> bool:
        """`remove` as hyperon's trie removes: down the branch of the first key equal to the atom's state,
        space or operation (there may be several: each atom has its own; a stored atom's too), which
        fails when the atom is not in that one; the numbers of the trie nodes (shared with the stored
        atoms) that outlive it kept."""
        i = self._victim(atom)
        if i < 0:
            return False
        path = self._paths[i]
        if path.alone >= 0:  # (the first branch of an equal key may be a stored atom's)
            first = _first_stored(store, atom, path.toks[:path.alone], path.alone)
            if first is not None and first.seq * ORDER_SCALE < self._order[i]:
                return False
        before = self.node_numbers(store, path)
        self._delete(i)
        self.removed(store, path, before)
        return True

    def _trie_toks(self, i: int) -> list[Any]:
        return self._paths[i].toks  # (tokens shared with stored atoms)

    def order_of(self, k: int) -> int:
        """The place of the atom at position k among the stored atoms (see `ORDER_SCALE`)."""
        return self._order[k]

    def remove_stored(self, store: Any, atom: Atom, exact: bool = False) -> bool:
        """`store.remove(atom, exact=exact)`, keeping the numbers of the trie nodes it shared with this
        overlay's atoms."""
        path = TriePath(*encode_with_names(atom))
        before = self.node_numbers(store, path)
        if not store.remove(atom, exact=exact):
            return False
        self.removed(store, path, before)
        return True

    def touches(self, pattern: Atom) -> bool:
        """Whether a query of `pattern` over the store and this overlay may differ from one of the store
        alone: some atom here matches it, or removals left numbers of trie nodes here."""
        return bool(self._kept) or any(unify(pattern, rename_apart(a), EMPTY_BINDINGS) is not None for a in self._atoms)

    def tracks(self) -> bool:
        """Whether a query of the store must be ordered with this overlay: it holds atoms, or numbers of
        trie nodes their removal left."""
        return bool(self._atoms or self._kept)

    def node_numbers(self, store: Any, path: TriePath) -> list[int | None]:
        """The number of each node on an atom's trie path that stored atoms can share (before its own key)."""
        from .query import trie_numbers

        with store.pinned():
            self.settle(next_stored_seq(store))
            numbers = trie_numbers(store)
            return [self._node(path, d, numbers) for d in range(_shared_depth(path))]

    def removed(self, store: Any, path: TriePath, before: list[int | None]) -> None:
        """After an atom on `path` was removed (stored or here), with its nodes' numbers `before`: a node
        that lives on keeps its number, as in hyperon's trie; one that died forgets it, and its subtree too."""
        from .query import trie_numbers

        with store.pinned():
            numbers = trie_numbers(store)
            for d, was in enumerate(before):
                node = tuple(path.toks[:d + 1])
                if self._node(path, d, numbers, kept=False) is not None:
                    if was is not None and self._kept.get(node, was) >= was:
                        self._kept[node] = was
                    continue
                for k in [k for k in self._kept if k[:d + 1] == node]:
                    del self._kept[k]
                break

    def _node(self, p: TriePath, d: int, numbers: Any, kept: bool = True) -> int | None:
        """The number of the node p's first d+1 tokens lead to (storable tokens): the first atom below
        it, stored or here, or the number kept for it; None when no atom is below it."""
        n = numbers.of(p, d)
        best = n * ORDER_SCALE if n >= 0 else None
        prefix = p.toks[:d + 1]
        order = self._order
        for k, q in enumerate(self._paths):
            if (best is None or order[k] < best) and (q.alone < 0 or q.alone > d) and q.toks[:d + 1] == prefix:
                best = order[k]
        if kept and best is not None and self._kept:
            was = self._kept.get(tuple(prefix))
            if was is not None and was < best:
                best = was
        return best

    def merge(self, stored: list[tuple[Any, TriePath]], hits: list[tuple[int, Any]], query: Atom,
              numbers: Any) -> list[Any]:
        """Stored rows (each with its atom's trie path, in hyperon's order) and overlay rows (each with
        its atom's position) in hyperon's order for `query`: one trie's, its nodes numbered by the
        first atom below them, stored (`numbers`, a `trieorder.Numbers`) or in the overlay."""
        if not hits and not self._kept:
            return [r for r, _ in stored]
        paths = [p for _, p in stored] + [self._paths[j] for j, _ in hits]
        own = [p.seq * ORDER_SCALE for _, p in stored] + [self._order[j] for j, _ in hits]
        memo: dict[tuple[int, int], int] = {}

        def number(i: int, d: int) -> int:
            got = memo.get((i, d))
            if got is None:
                p = paths[i]
                got = None if 0 <= p.alone <= d else self._node(p, d, numbers)  # (past its own key: its own node)
                got = memo[(i, d)] = own[i] if got is None else got
            return got

        rows = [r for r, _ in stored] + [r for _, r in hits]
        perm = trie_permutation([p.toks for p in paths], lambda: atom_tokens(query), number)
        return [rows[i] for i in perm]


def _shared_depth(p: TriePath) -> int:
    """How many of a trie path's tokens lead to nodes other atoms can share (up to its own key)."""
    return p.alone if p.alone >= 0 else len(p.toks)


def stored_removable(store: Any, atom: Atom, overlay: Overlay | None) -> bool:
    """Whether hyperon's trie would reach a stored atom to remove for `atom` (`MemorySpace._victim`
    over a durable space): up to the atom's first grounded operation or space (a key of each
    atom's own) it has one branch; there it takes the first branch, stored or in the overlay, whose
    key equals the atom's, and finds nothing when the atom is not in that one."""
    path = TriePath(*encode_with_names(atom))
    d = path.alone
    if d < 0:
        return True
    head = path.toks[:d]
    first = _first_stored(store, atom, head, d)
    k = overlay.first_owner(head, d, _sub_atom(atom, d)) if overlay is not None else -1
    if k >= 0 and (first is None or overlay.order_of(k) < first.seq * ORDER_SCALE):  # type: ignore[union-attr]
        return False
    return first is None or (first.path == path.path and first.names == path.names)


def _first_stored(store: Any, atom: Atom, head: list[Any], d: int) -> TriePath | None:
    """The path of the first stored atom (by insertion) whose trie tokens start with `head` and
    whose own key, its d-th token, equals the atom's d-th sub-atom (a grounded operation)."""
    key = _sub_atom(atom, d)
    if _is_session_object(key):  # (no stored atom holds one)
        return None
    from .query import ordered_matches_in

    first: TriePath | None = None
    for _, p in ordered_matches_in(store, _cut_after(atom, d), EMPTY_BINDINGS):
        if p.alone == d and p.toks[:d] == head and _sub_atom(decode(p.path, p.names or None), d) == key:
            if first is None or p.seq < first.seq:
                first = p
    return first


def _cut_after(atom: Atom, d: int) -> Atom:
    """The atom with each sub-atom that starts past its d-th (prefix order) replaced by a fresh variable."""
    out: list[Atom] = []
    stack: list[tuple[Atom, int]] = [(atom, -1)]
    seen = 0
    while stack:
        a, n = stack.pop()
        if n >= 0:
            kids = out[len(out) - n:]
            del out[len(out) - n:]
            out.append(Expression(tuple(kids)))
            continue
        seen += 1
        if seen > d + 1:
            out.append(fresh_variable("c"))
        elif type(a) is Expression:
            stack.append((a, len(a.children)))
            stack.extend((c, -1) for c in reversed(a.children))
        else:
            out.append(a)
    return out[0]


def holds_session_object(atom: Atom) -> bool:
    """Whether an atom contains a grounded object that only lives in this process (a state, a space...)."""
    t = type(atom)
    if t is Expression:
        stack = [atom]
        while stack:  # no generator: this runs for every added atom and every query
            for k in stack.pop().children:  # type: ignore[attr-defined]
                tk = type(k)
                if tk is Expression:
                    stack.append(k)
                elif tk is not Symbol and tk is not Variable and tk not in _STORABLE:
                    return True
        return False
    return t is not Symbol and t is not Variable and t not in _STORABLE


def _overlay_path(atom: Atom, serial: int) -> TriePath:
    """An overlay atom's trie path (see `Overlay`); `serial` makes its own key unique."""
    hole, obj = -1, None
    for i, a in enumerate(iter_atoms(atom)):  # (prefix order: one token each)
        if _is_session_object(a):
            hole, obj = i, a
            break
    pseudo = rebuild(atom, lambda a: _HOLE if _is_session_object(a) else a, lambda _e, kids: Expression(tuple(kids)))
    p = TriePath(*encode_with_names(pseudo))
    toks: list[Any] = list(p.toks)
    alone = hole if p.alone < 0 or 0 <= hole < p.alone else p.alone
    if alone >= 0:
        space = (getattr(obj, "matches_by_query", False) or getattr(obj, "keyed_with_variables", False)) \
            if alone == hole else is_var(toks[alone])
        toks[alone] = ("$", "session-space", serial) if space else ("session", serial)
    p.toks, p.alone = toks, alone
    return p


def next_stored_seq(store: Any) -> int:
    """The insertion number a durable space gives the next atom added to it (read, not taken)."""
    w = store.current_writer()
    if w is not None:
        return int(w.peek_seq())
    return int(store.meta(b"seq") or FIRST_SEQ)


def session_overlay(space: Any, create: bool = False) -> Overlay | None:
    """The in-process atoms that sit beside a durable space (None when it has none and not `create`).

    A durable space cannot store a state or a space: an added atom that holds one
    lives here instead, for as long as the space object does; matches and
    `get-atoms` see it after the stored atoms.  It is never written to disk: a
    later process does not see it, and a rolled-back run does not take it back.
    """
    if not _OVERLAYS.data and not create:  # type: ignore[attr-defined]  # no overlay anywhere (the common case): no weak reference made
        return None
    ov = _OVERLAYS.get(space)
    if ov is None and create:
        ov = _OVERLAYS[space] = Overlay()
    return ov


def merged_query(store: Any, overlay: Overlay, pattern: Atom, bindings: Bindings = EMPTY_BINDINGS) -> list[Bindings]:
    """A query of a durable space and its session overlay, in hyperon's order: a conjunction's conjuncts
    in a nested loop as written, each conjunct's matches as one trie of both would give them."""
    from .query import conjuncts, ordered_matches_in, trie_numbers

    parts = conjuncts(pattern)
    with store.pinned():
        overlay.settle(next_stored_seq(store))
        numbers = trie_numbers(store)
        found = [bindings]
        for part in [pattern] if parts is None else parts:
            nxt: list[Bindings] = []
            for b in found:
                p = b.resolve(part)
                stored = _stored_matches(store, p, b) if holds_session_object(p) else ordered_matches_in(store, p, b)
                nxt.extend(overlay.merge(stored, overlay.hits(p, b), p, numbers))
            found = nxt
    return found


def _stored_matches(store: Any, pattern: Atom, bindings: Bindings) -> list[tuple[Bindings, TriePath]]:
    """The stored matches of a pattern that holds a session object, which no stored atom holds: a
    stored variable there matches it.  The pattern with variables in their place finds them, each
    then unified with the pattern itself."""
    from .query import ordered_matches_in

    holes = rebuild(pattern, lambda a: fresh_variable("o") if _is_session_object(a) else a,
                    lambda _e, kids: Expression(tuple(kids)))
    out: list[tuple[Bindings, TriePath]] = []
    names: dict[str, Variable] = {}  # (one query, one map of names: hyperon's)
    for _, p in ordered_matches_in(store, holes, bindings):
        for b in unify_all(pattern, rename_apart(decode(p.path, p.names or None), None, names), bindings, True):
            out.append((b, p))
    return out


def merged_atoms(store: Any, overlay: Overlay) -> list[Atom]:
    """Every atom of a durable space and its session overlay, in hyperon's order (`get-atoms`)."""
    from .query import ordered_atoms, ordered_matches_in, trie_numbers

    x = Variable("x")
    with store.pinned():
        overlay.settle(next_stored_seq(store))
        numbers = trie_numbers(store)
        stored = ordered_atoms(store)
        paths = [p for _, p in ordered_matches_in(store, x, EMPTY_BINDINGS)]
        return overlay.merge(list(zip(stored, paths, strict=True)), [(j, a) for j, a in enumerate(overlay.atoms_as_added())], x, numbers)


def _space_query(atom: Atom, pattern: Atom) -> list[Bindings] | None:
    """A query of the space an atom holds (`unify.SPACE_QUERY`): a durable space with its session
    overlay, or a session space; None for what is no space of this process."""
    if not isinstance(atom, SpaceAtom):
        return None
    space = atom.value
    if isinstance(space, MemorySpace):
        return list(space.query(pattern))
    if hasattr(space, "current_writer"):  # a durable space (a `Store`)
        return merged_query(space, session_overlay(space) or Overlay(), pattern)
    query = getattr(space, "query", None)
    return None if query is None else list(query(pattern))


SPACE_QUERY[0] = _space_query
