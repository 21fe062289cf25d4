"""Spaces the interpreter can hold: the durable one, and in-memory ones from `new-space`."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any, Protocol

from .atoms import Atom, Bool, Expression, Float, Grounded, Integer, String, Symbol, Variable, fresh_variable, iter_atoms
from .bindings import EMPTY_BINDINGS, Bindings
from .trieorder import NodeNumbers, atom_tokens, trie_permutation
from .unify import unify

__all__ = ["MemorySpace", "ModuleSpaceAtom", "SpaceAtom", "SpaceLike", "StateAtom", "holds_session_object", "rename_apart",
           "session_overlay"]


class SpaceLike(Protocol):
    """What the interpreter needs of a space."""

    def query(self, pattern: Atom, bindings: Bindings = ...) -> Iterator[Bindings]: ...
    def add(self, atom: Atom) -> Any: ...
    def remove(self, atom: Atom) -> bool: ...
    def atoms(self) -> Iterator[Atom]: ...


_EQ = Symbol("=")


def rename_apart(atom: Atom) -> Atom:
    """The atom with every variable replaced by a fresh one."""
    vs = {a for a in iter_atoms(atom) if type(a) is Variable}
    if not vs:
        return atom
    return Bindings({v: fresh_variable(v.name) for v in vs}).resolve(atom)


class MemorySpace:
    """A small in-memory multiset space (what `new-space` makes)."""

    def __init__(self) -> None:
        self._atoms: list[Atom] = []
        self._toks: list[list[Any]] = []  # each atom's trie tokens
        self._trie = NodeNumbers()
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
            hits: dict[int, Bindings] = {}
            for j, a in enumerate(self._atoms):
                b2 = unify(p, rename_apart(a), b)
                if b2 is not None:
                    hits[j] = b2
            found = [(i + 1, hits[j]) for j in self._trie_order(list(hits), p)]
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
        hits: dict[int, Bindings] = {}
        for j in candidates:
            b2 = unify(pattern, rename_apart(self._atoms[j]), bindings)
            if b2 is not None:
                hits[j] = b2
        return [hits[j] for j in self._trie_order(list(hits), pattern)]

    def _trie_order(self, hits: list[int], query: Atom) -> list[int]:
        toks = [self._toks[j] for j in hits]
        perm = trie_permutation(toks, lambda: atom_tokens(query), lambda i, d: self._trie.number(toks[i], d))
        return [hits[i] for i in perm]

    def add(self, atom: Atom) -> None:
        toks = atom_tokens(atom)
        self._rules = None
        self._atoms.append(atom)
        self._toks.append(toks)
        self._trie.add(toks)

    def remove(self, atom: Atom) -> bool:
        from .atoms import alpha_equal

        for i, a in enumerate(self._atoms):
            if a == atom or alpha_equal(a, atom):
                self._rules = None
                del self._atoms[i]
                self._trie.remove(self._toks.pop(i))
                return True
        return False

    def atoms(self) -> Iterator[Atom]:
        """Every atom, in hyperon's order (the trie's, as a query of a variable walks it)."""
        order = self._trie_order(list(range(len(self._atoms))), Variable("x"))
        return iter([self._atoms[j] for j in order])

    def __len__(self) -> int:
        return len(self._atoms)


class SpaceAtom(Grounded):
    """A space as a grounded atom (`&self`, `(new-space)`); equal only to itself."""

    __slots__ = ()
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
    """A mutable state cell; prints `(State value)` like hyperon."""

    __slots__ = ()
    type_name = "StateMonad"

    def __init__(self, value: Atom, value_type: Atom | None = None) -> None:
        # [current value, type of the first value (the state's type; None: undefined)]
        object.__setattr__(self, "value", [value, value_type])
        object.__setattr__(self, "_hash", id(self))

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = Grounded.__hash__

    def text(self) -> str:
        """How the state prints."""
        return f"(State {self.value[0]})"

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


_STORABLE = (Integer, Float, String, Bool)
_OVERLAYS: weakref.WeakKeyDictionary[Any, MemorySpace] = weakref.WeakKeyDictionary()


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


def session_overlay(space: Any, create: bool = False) -> MemorySpace | None:
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
        ov = _OVERLAYS[space] = MemorySpace()
    return ov
