"""Immutable variable bindings, as produced by matching.

A `Bindings` maps variables to atoms; a variable may be bound to another
variable (they are then the same unknown).  Every operation returns a new
`Bindings` or `None`; nothing mutates and nothing recurses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .atoms import Atom, Expression, Variable
from .encoding import decode, text_atom

__all__ = ["CAPTURES", "EMPTY_BINDINGS", "Bindings", "LazyBindings", "RowLayout", "clear_captures"]


class Bindings(Mapping[Variable, Atom]):
    """An immutable substitution; `b[var]` gives the fully resolved value.

    The variable may be given by name: `b["x"]` and `b["$x"]` are `b[Variable("x")]`.
    """

    __slots__ = ("links",)
    #: the stored links, variable -> value (unresolved); read it, never change it
    links: dict[Variable, Atom]

    def __init__(self, mapping: Mapping[Variable, Atom] | None = None) -> None:
        self.links = dict(mapping) if mapping else {}

    # Mapping protocol ----------------------------------------------------
    def __getitem__(self, var: Variable | str) -> Atom:
        if type(var) is str:
            var = Variable(var[1:] if var.startswith("$") else var)
        v = self.links[var]  # type: ignore[index]
        t = type(v)
        if t is not Variable and t is not Expression:
            return v
        return self.resolve(v)

    def __contains__(self, var: object) -> bool:
        if type(var) is str:
            var = Variable(var[1:] if var.startswith("$") else var)
        return var in self.links

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.links)

    def __len__(self) -> int:
        return len(self.links)

    def __repr__(self) -> str:
        inner = ", ".join(f"${v.name}: {self.resolve(v)}" for v in self.links)
        return "{" + inner + "}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bindings):
            return NotImplemented
        return self.links == other.links

    def __hash__(self) -> int:
        return hash(frozenset(self.links.items()))

    # operations ----------------------------------------------------------
    def walk(self, atom: Atom) -> Atom:
        """Follow variable-to-atom links until an unbound variable or a non-variable."""
        d = self.links
        while type(atom) is Variable:
            nxt = d.get(atom)
            if nxt is None:
                return atom
            atom = nxt
        return atom

    def resolve(self, atom: Atom) -> Atom:
        """The atom with every bound variable replaced by its value."""
        d = self.links
        if not d:
            return atom
        try:
            return _resolve_shallow(atom, d, 0)
        except _TooDeep:
            return self._resolve_deep(atom)

    def _resolve_deep(self, atom: Atom) -> Atom:
        if type(atom) is Variable:
            atom = self.walk(atom)
            if type(atom) is not Expression:
                return atom
        elif type(atom) is not Expression or atom.ground:
            return atom
        # post-order rebuild; unchanged subtrees are reused
        out: list[Atom] = []
        stack: list[tuple[Atom, bool]] = [(atom, False)]
        active: set[int] = set()
        while stack:
            a, done = stack.pop()
            if type(a) is Variable:
                w = self.walk(a)
                if type(w) is Expression:
                    if id(w) in active:
                        raise ValueError("cyclic bindings")
                    a = w
                else:
                    out.append(w)
                    continue
            if type(a) is not Expression or a.ground:
                out.append(a)
                continue
            kids = a.children
            if not done:
                active.add(id(a))
                stack.append((a, True))
                for k in reversed(kids):
                    stack.append((k, False))
                continue
            active.discard(id(a))
            n = len(kids)
            new = out[len(out) - n :] if n else []
            if n:
                del out[len(out) - n :]
            if all(x is y for x, y in zip(new, kids)):
                out.append(a)
            else:
                out.append(Expression(new))
        return out[0]

    def restrict(self, variables: Any) -> Bindings:
        """Only the given variables, each resolved."""
        return Bindings({v: self.resolve(v) for v in variables if v in self.links})

    def to_dict(self) -> dict[str, str]:
        """`{"x": "MeTTa text"}` for each bound variable (names without `$`)."""
        return {v.name: str(self.resolve(v)) for v in self.links}

    def items_raw(self) -> Iterator[tuple[Variable, Atom]]:
        """The stored links, unresolved."""
        return iter(self.links.items())

    @staticmethod
    def from_links(links: dict[Variable, Atom]) -> Bindings:
        """Bindings that take ownership of `links` (not copied: the caller must not change it)."""
        b = Bindings.__new__(Bindings)
        b.links = links
        return b


EMPTY_BINDINGS = Bindings()


class RowLayout:
    """What a row of captured bytes means: which variable each position holds, and the incoming
    links every row of a query shares (shared by all the rows of one query step)."""

    __slots__ = ("base", "by_name", "names")

    def __init__(self, names: dict[Variable, int], base: dict[Variable, Atom],
                 by_name: dict[str, int] | None = None) -> None:
        #: variable -> position in the row, in capture order
        self.names = names
        #: the same by name (a str hashes in C; a Variable's hash is a Python call)
        self.by_name = by_name if by_name is not None else {v.name: i for v, i in names.items()}
        #: the incoming bindings' links (never changed)
        self.base = base


#: captured subterm path -> its atom, shared by every query (atoms are immutable; a path is one atom)
CAPTURES: dict[bytes, Atom] = {}
_CAPTURES_MAX = 500_000


def clear_captures() -> None:
    """Forget decoded captures (benchmarks start cold with it)."""
    CAPTURES.clear()


def _capture(c: bytes) -> Atom:
    """The atom of a captured ground subterm path, decoded once."""
    a = CAPTURES.get(c)
    if a is None:
        b = c[0]
        a = text_atom(c) if b > 0xC0 and len(c) == 1 + (b & 0x3F) else decode(c)
        if len(CAPTURES) >= _CAPTURES_MAX:
            CAPTURES.clear()
        CAPTURES[c] = a
    return a


class LazyBindings(Bindings):
    """Bindings whose captured values are kept as byte paths (ground subterms of stored keys) and
    decoded when read: `b[var]` decodes one value (each distinct path once, then shared);
    anything that needs every link (`links`, `resolve`, `==`, unification) builds them all once.

    Behaves exactly like the `Bindings` it stands for; pickles as a plain `Bindings`.
    """

    __slots__ = ("_lay", "_names", "_row")
    _lay: RowLayout
    _names: dict[str, int]
    _row: tuple[bytes, ...]

    def __init__(self, lay: RowLayout, row: tuple[bytes, ...]) -> None:
        self._lay = lay
        self._names = lay.by_name
        self._row = row

    def __getattr__(self, name: str) -> Any:
        # reached only while the `links` slot is unset: build every link once
        if name != "links":
            raise AttributeError(name)
        lay = self._lay
        d = dict(lay.base)
        row = self._row
        for var, i in lay.names.items():
            d[var] = _capture(row[i])
        self.links = d
        return d

    def __getitem__(self, var: Variable | str) -> Atom:
        try:
            return CAPTURES[self._row[self._names[var.name]]]  # type: ignore[union-attr]
        except (AttributeError, KeyError):  # a name, not decoded yet, an incoming binding, or none
            return self._miss(var)

    def _miss(self, var: Variable | str) -> Atom:
        t = type(var)
        if t is Variable:
            i = self._names.get(var.name)  # type: ignore[union-attr]
        elif t is str:
            i = self._names.get(var[1:] if var.startswith("$") else var)  # type: ignore[union-attr,index,arg-type]
        else:
            i = None
        return Bindings.__getitem__(self, var) if i is None else _capture(self._row[i])

    def __contains__(self, var: object) -> bool:
        if type(var) is str:
            var = Variable(var[1:] if var.startswith("$") else var)
        lay = self._lay
        return var in lay.names or var in lay.base

    def __iter__(self) -> Iterator[Variable]:
        lay = self._lay
        return iter(lay.names) if not lay.base else iter(self.links)

    def __len__(self) -> int:
        lay = self._lay
        return len(lay.names) if not lay.base else len(self.links)

    def __reduce__(self) -> tuple[Any, ...]:
        return Bindings.from_links, (self.links,)


class _TooDeep(Exception):
    pass


_SHALLOW_LIMIT = 64


def _resolve_shallow(atom: Atom, d: dict[Variable, Atom], depth: int) -> Atom:
    """Substitution for the common, shallow case; bounded recursion, `_TooDeep` past it."""
    t = type(atom)
    if t is Variable:
        seen = 0
        while type(atom) is Variable:
            nxt = d.get(atom)
            if nxt is None:
                return atom
            atom = nxt
            seen += 1
            if seen > 10_000:
                raise _TooDeep
        if type(atom) is not Expression or atom.ground:
            return atom
    elif t is not Expression or atom.ground:  # type: ignore[attr-defined]
        return atom
    if depth > _SHALLOW_LIMIT:
        raise _TooDeep
    kids = atom.children  # type: ignore[attr-defined]
    new = [_resolve_shallow(k, d, depth + 1) for k in kids]
    for x, y in zip(new, kids):
        if x is not y:
            return Expression(new)
    return atom
